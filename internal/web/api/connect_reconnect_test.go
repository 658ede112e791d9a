package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/connection"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/store"
)

// TestReconnectInPlaceEveryKind: POST …/connections/{id}/reconnect
// recovers every auth kind without a new id, and each refusal names the
// call that works.
func TestReconnectInPlaceEveryKind(t *testing.T) {
	t.Parallel()
	b := setupConnect(t)
	ctx := context.Background()
	life := connection.New(b.st, nil)
	base := "/api/v1/tenants/" + ctTenant + "/connections/"

	// Client credentials: the grant runs again.
	svc, err := b.m.Connect(ctx, ctTenant, "svc", credential.Secret{})
	require.NoError(t, err)
	_, _, err = life.Pause(ctx, ctTenant, svc.ID, store.ConnectionNeedsReconnect, "refused", connection.Entry{}, nil)
	require.NoError(t, err)
	status, out, raw := b.post(t, base+svc.ID+"/reconnect", "")
	require.Equal(t, http.StatusOK, status, raw)
	conn := out["connection"].(map[string]any)
	require.Equal(t, svc.ID, conn["id"])
	require.Equal(t, "active", conn["state"])
	require.NotContains(t, raw, ctAccessToken)
	status, out, _ = b.post(t, base+svc.ID+"/reconnect", `{"api_key":"x-key-value"}`)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, out["detail"], "POST /api/v1/tenants/"+ctTenant+"/connections/"+svc.ID+"/reconnect with an empty body")

	// API key: the new secret, in place; without one, the call that works.
	keyed, err := b.m.Connect(ctx, ctTenant, "keyed", credential.Secret{APIKey: "wrong-api-key-value"})
	require.NoError(t, err)
	_, _, err = life.Pause(ctx, ctTenant, keyed.ID, store.ConnectionNeedsReconnect, "refused", connection.Entry{}, nil)
	require.NoError(t, err)
	status, out, _ = b.post(t, base+keyed.ID+"/reconnect", "")
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, out["detail"], "/connections/"+keyed.ID+"/reconnect with the new api_key")
	status, out, raw = b.post(t, base+keyed.ID+"/reconnect", `{"api_key":"`+ctGoodKey+`"}`)
	require.Equal(t, http.StatusOK, status, raw)
	require.Equal(t, "active", out["connection"].(map[string]any)["state"])
	require.NotContains(t, raw, ctGoodKey)
	status, out, raw = b.post(t, base+keyed.ID+"/test", "")
	require.Equal(t, http.StatusOK, status, raw)
	require.Equal(t, "active", out["state"])

	// Authorization code: a single-use link to the provider's consent.
	now := time.Now()
	require.NoError(t, b.st.CreateConnection(ctx, store.Connection{TenantID: ctTenant, ID: "conn_crm", Provider: "crm",
		State: store.ConnectionNeedsReconnect, CreatedAt: now, UpdatedAt: now}))
	status, out, raw = b.post(t, base+"conn_crm/reconnect", `{"allow_account_change":true}`)
	require.Equal(t, http.StatusCreated, status, raw)
	link := out["session"].(map[string]any)["url"].(string)
	code, loc := b.start(t, link)
	require.Equal(t, http.StatusFound, code)
	require.True(t, strings.HasPrefix(loc, b.partner.URL+"/authorize?"), loc)
	code, _ = b.start(t, link)
	require.Equal(t, http.StatusGone, code, "the link is single use")
	status, out, _ = b.post(t, base+"conn_crm/reconnect", `{"api_key":"nope-value"}`)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, out["detail"], "returns a link to its consent page")
}

// TestTestAnswersStateAfter: a test whose refresh the provider refused
// answers needs_reconnect, the state it just moved the connection to; a
// token endpoint failure names the token endpoint, not the partner.
func TestTestAnswersStateAfter(t *testing.T) {
	t.Parallel()
	b := setupConnect(t)
	ctx := context.Background()
	sealed, err := b.vault.SealSecret(ctx, ctTenant, credential.Secret{AccessToken: "stale-access-value", RefreshToken: ctRevokedRefresh,
		Expiry: time.Now().Add(-time.Hour)})
	require.NoError(t, err)
	now := time.Now()
	require.NoError(t, b.st.CreateConnection(ctx, store.Connection{TenantID: ctTenant, ID: "conn_crm", Provider: "crm",
		State: store.ConnectionActive, Secret: sealed, CreatedAt: now, UpdatedAt: now}))
	status, out, raw := b.post(t, "/api/v1/tenants/"+ctTenant+"/connections/conn_crm/test", "")
	require.Equal(t, http.StatusBadGateway, status, raw)
	require.Equal(t, "needs_reconnect", out["state"], "the state after the test")
	require.NotContains(t, raw, ctRevokedRefresh)
}
