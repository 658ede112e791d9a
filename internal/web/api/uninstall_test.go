package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/connection"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/uninstall"
	"github.com/accordhq/accord/internal/web/api"
)

type cancellingQueue struct{ *recordingQueue }

func (cancellingQueue) CancelJobs(context.Context, string, map[string]string) (int, error) {
	return 0, nil
}

type lifecycleDisconnector struct{ life *connection.Lifecycle }

func (d lifecycleDisconnector) Disconnect(ctx context.Context, tenantID, id, actor string) (bool, error) {
	_, err := d.life.Disconnect(ctx, tenantID, id, actor, nil)
	return false, err
}

func call(t *testing.T, b *clientBundle, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, b.url+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+clToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestUninstallRoutes: POST starts an uninstall (202) and shows its
// progress; a second POST is 409; the installation can no longer be
// resumed; GET shows each finished step.
func TestUninstallRoutes(t *testing.T) {
	t.Parallel()
	var u *uninstall.Uninstaller
	b := setupClientWith(t, func(d *api.Deps) {
		var err error
		u, err = uninstall.New(d.Store, cancellingQueue{d.Queue.(*recordingQueue)}, lifecycleDisconnector{connection.New(d.Store, nil)},
			&uninstall.Config{})
		require.NoError(t, err)
		d.Uninstaller = u
	})
	inst, conns := b.install(t)
	path := "/api/v1/tenants/acme/installations/" + inst.ID

	status, got := call(t, b, http.MethodPost, path+"/uninstall", nil)
	require.Equal(t, http.StatusAccepted, status, got)
	require.Equal(t, "running", got["state"])
	require.Equal(t, uninstall.StepStopIntake, got["next_step"])
	status, _ = call(t, b, http.MethodPost, path+"/uninstall", nil)
	require.Equal(t, http.StatusConflict, status)
	status, _ = call(t, b, http.MethodPost, path+"/resume", nil)
	require.Equal(t, http.StatusConflict, status, "an uninstalled installation is not resumed")

	// The retention (30 days by default) holds the data: the job stops
	// at retain with the tokens gone.
	require.Error(t, u.Run(t.Context(), "acme", inst.ID))
	status, got = call(t, b, http.MethodGet, path+"/uninstall", nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "retaining", got["state"])
	require.Len(t, got["steps"], 4) // stop_intake, cancel_jobs, deregister_webhooks, revoke_tokens
	c, err := b.st.GetConnection(t.Context(), "acme", conns["helpdesk"].ID)
	require.NoError(t, err)
	require.Equal(t, store.ConnectionDisconnected, c.State)

	status, _ = call(t, b, http.MethodGet, "/api/v1/tenants/acme/installations/nope/uninstall", nil)
	require.Equal(t, http.StatusNotFound, status)
}
