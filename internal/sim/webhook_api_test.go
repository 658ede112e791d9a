package sim_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/sim"
)

// TestHelpdeskWebhookRegistrationAndRevocation: a webhook registered
// through the API receives changes until it is deleted; a token revoked
// through RFC 7009 is refused afterwards.
func TestHelpdeskWebhookRegistrationAndRevocation(t *testing.T) {
	t.Parallel()
	clk := newClock()
	h := sim.NewHelpdesk(&sim.Config{Token: token, Now: clk.Now})
	t.Cleanup(h.Stop)
	srv := httptest.NewServer(h.Handler())
	t.Cleanup(srv.Close)
	rc := newReceiver(t, clk)

	do := func(method, path string, body any) *http.Response {
		t.Helper()
		raw, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, bytes.NewReader(raw))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := do(http.MethodPost, "/webhooks", map[string]any{"url": rc.url, "secret": hookSecret, "events": []string{"ticket.created"}})
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var sub sim.Subscription
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&sub))
	require.Equal(t, []sim.Subscription{sub}, h.Webhooks())

	_, err := h.CreateTicket(sim.Ticket{Title: "one"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(rc.all()) == 1 }, 5*time.Second, 5*time.Millisecond)
	require.True(t, rc.all()[0].VerifyOK)

	require.Equal(t, http.StatusNoContent, do(http.MethodDelete, "/webhooks/"+sub.ID, nil).StatusCode)
	require.Equal(t, http.StatusNotFound, do(http.MethodDelete, "/webhooks/"+sub.ID, nil).StatusCode)
	require.Empty(t, h.Webhooks())
	_, err = h.CreateTicket(sim.Ticket{Title: "two"})
	require.NoError(t, err)
	// Deleting is synchronous: the change is never queued for it.
	ds, err := h.WaitDeliveries(t.Context(), 1)
	require.NoError(t, err)
	require.Len(t, ds, 1, "nothing after the webhook was deleted")
	require.Len(t, rc.all(), 1)

	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	rv, err := http.Post(srv.URL+"/oauth/revoke", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	rv.Body.Close()
	require.Equal(t, http.StatusOK, rv.StatusCode)
	require.Equal(t, []string{token}, h.RevokedTokens())
	require.Equal(t, http.StatusUnauthorized, do(http.MethodGet, "/tickets", nil).StatusCode, "a revoked token is refused")
}
