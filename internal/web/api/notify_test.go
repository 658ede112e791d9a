package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/notify"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/web/api"
)

type manyQueue struct{ *recordingQueue }

func (manyQueue) InsertManyTx(context.Context, store.Tx, []river.InsertManyParams) ([]int64, error) {
	return nil, nil
}

func setupNotify(t *testing.T) *clientBundle {
	t.Helper()
	return setupClientWith(t, func(d *api.Deps) {
		n, err := notify.New(d.Store, manyQueue{d.Queue.(*recordingQueue)}, d.Vault, nil, nil)
		require.NoError(t, err)
		d.Notifier = n
	})
}

var _ notify.Sealer = (*credential.Vault)(nil)

// TestNotificationEndpointRoutes: create (secret shown once), list
// (never the secret), rotate, the delivery log, delete.
func TestNotificationEndpointRoutes(t *testing.T) {
	t.Parallel()
	b := setupNotify(t)
	base := "/api/v1/tenants/acme/notification-endpoints"
	status, got := call(t, b, http.MethodPost, base, map[string]any{"url": "https://host.example/accord", "event_types": []string{"record_error.opened"}})
	require.Equal(t, http.StatusCreated, status, got)
	id, _ := got["id"].(string)
	secret, _ := got["secret"].(string)
	require.NotEmpty(t, id)
	require.Regexp(t, `^whsec_`, secret)

	status, got = call(t, b, http.MethodPost, base, map[string]any{"url": "https://host.example/", "event_types": []string{"nope"}})
	require.Equal(t, http.StatusBadRequest, status, got)
	status, _ = call(t, b, http.MethodPost, base, map[string]any{"url": "not a url"})
	require.Equal(t, http.StatusBadRequest, status)

	status, got = call(t, b, http.MethodGet, base, nil)
	require.Equal(t, http.StatusOK, status)
	eps := got["endpoints"].([]any)
	require.Len(t, eps, 1)
	require.NotContains(t, eps[0], "secret", "a secret is shown once")

	status, got = call(t, b, http.MethodPost, base+"/"+id+"/rotate-secret", nil)
	require.Equal(t, http.StatusOK, status, got)
	require.NotEqual(t, secret, got["secret"])
	require.NotEmpty(t, got["previous_secret_expires_at"])

	status, got = call(t, b, http.MethodGet, base+"/"+id+"/deliveries", nil)
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, got["deliveries"])

	status, _ = call(t, b, http.MethodDelete, base+"/"+id, nil)
	require.Equal(t, http.StatusNoContent, status)
	status, _ = call(t, b, http.MethodDelete, base+"/"+id, nil)
	require.Equal(t, http.StatusNotFound, status)
}

// TestRESTHookRoutes: subscribe, samples, unsubscribe.
func TestRESTHookRoutes(t *testing.T) {
	t.Parallel()
	b := setupNotify(t)
	status, got := call(t, b, http.MethodPost, "/api/v1/hooks", map[string]any{"tenant_id": "acme",
		"target_url": "https://hooks.zapier.example/abc", "event": "record_error.opened"})
	require.Equal(t, http.StatusCreated, status, got)
	id := got["id"].(string)
	require.Equal(t, "record_error.opened", got["event"])

	status, _ = call(t, b, http.MethodPost, "/api/v1/hooks", map[string]any{"tenant_id": "acme",
		"target_url": "https://hooks.zapier.example/abc", "event": "nope"})
	require.Equal(t, http.StatusBadRequest, status)
	status, _ = call(t, b, http.MethodPost, "/api/v1/hooks", map[string]any{"tenant_id": "nobody",
		"target_url": "https://hooks.zapier.example/abc", "event": "record_error.opened"})
	require.Equal(t, http.StatusNotFound, status)

	for _, typ := range notify.EventTypes() {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, b.url+"/api/v1/hooks/samples/"+typ, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+clToken)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, typ)
	}
	status, _ = call(t, b, http.MethodGet, "/api/v1/hooks/samples/nope", nil)
	require.Equal(t, http.StatusNotFound, status)

	status, _ = call(t, b, http.MethodDelete, "/api/v1/hooks/"+id+"?tenant_id=acme", nil)
	require.Equal(t, http.StatusNoContent, status)
	status, _ = call(t, b, http.MethodDelete, "/api/v1/hooks/"+id+"?tenant_id=acme", nil)
	require.Equal(t, http.StatusNotFound, status)
}
