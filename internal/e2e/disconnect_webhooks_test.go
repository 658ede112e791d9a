package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/store"
)

// TestDisconnectDeletesPartnerWebhooks: disconnecting a connection that
// Accord subscribed at its partner deletes the subscription there, so the
// partner stops sending deliveries Accord would answer 410. With the
// partner down, the connection is disconnected at once (its webhooks
// refused) and the subscription is deleted once the partner is back; a
// partner that refuses for good is audited and the connection ends
// anyway. Reconnecting subscribes the connection again.
func TestDisconnectDeletesPartnerWebhooks(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := setupWith(t, b, &setupOptions{NoInstall: true})
			ctx := t.Context()
			c := e.api()
			ids := e.connectForRegistration(t)
			conn := ids["helpdesk"]
			hookURL := e.url + "/hooks/" + conn
			_, err := c.CreateInstallation(ctx, tenantID, "escalation", ids)
			require.NoError(t, err)
			require.Len(t, e.helpdesk.Webhooks(), 1)
			disconnect := func() map[string]any {
				t.Helper()
				status, out := e.call(http.MethodPost, "/api/v1/tenants/acme/connections/"+conn+"/disconnect", nil)
				require.Equal(t, http.StatusOK, status, out)
				return out
			}
			reconnect := func() {
				t.Helper()
				status, out := e.call(http.MethodPost, "/api/v1/tenants/acme/connections/"+conn+"/reconnect",
					map[string]any{"api_key": helpdeskToken})
				require.Equal(t, http.StatusOK, status, out)
				require.Eventually(t, func() bool { return len(e.helpdesk.Webhooks()) == 1 }, waitFor, 10*time.Millisecond,
					"reconnecting subscribes the connection again")
				require.Equal(t, hookURL, e.helpdesk.Webhooks()[0].URL)
				require.Equal(t, []string{"ticket.created", "ticket.updated"}, e.helpdesk.Webhooks()[0].Events)
			}
			ended := func() bool {
				got, err := e.app.Store.GetConnection(ctx, tenantID, conn)
				require.NoError(t, err)
				return got.State == store.ConnectionDisconnected && len(got.Secret) == 0
			}

			// The partner answers: the subscription is gone before the
			// disconnect returns.
			out := disconnect()
			require.Equal(t, true, out["webhooks_deleted"], out)
			require.Empty(t, e.helpdesk.Webhooks())
			require.True(t, ended())
			require.Equal(t, http.StatusGone, e.postUnsignedHook(hookURL))

			// The partner is down: the connection is disconnected at once,
			// the deletion waits for the partner.
			reconnect()
			require.NoError(t, e.helpdesk.Inject(sim.Fault{Kind: sim.FaultServerError, Method: http.MethodDelete, Count: 1000}))
			out = disconnect()
			require.Equal(t, true, out["webhooks_pending"], out)
			require.Equal(t, "disconnected", out["connection"].(map[string]any)["state"])
			require.Equal(t, http.StatusGone, e.postUnsignedHook(hookURL), "no intake while the deletion is pending")
			require.Eventually(t, func() bool { return e.helpdesk.AppliedFaults()[sim.FaultServerError] >= 2 }, waitFor,
				10*time.Millisecond, "the deletion is retried in the background")
			require.Len(t, e.helpdesk.Webhooks(), 1)
			require.False(t, ended(), "the credential stays until the subscription is deleted")
			e.helpdesk.ClearFaults()
			require.Eventually(t, func() bool { return len(e.helpdesk.Webhooks()) == 0 && ended() }, waitFor, 10*time.Millisecond,
				"once the partner recovers the subscription is deleted and the connection ended")
			require.True(t, e.auditedAction(conn, "connection.disconnecting"))
			require.True(t, e.auditedAction(conn, "connection.webhooks_deregistered"))

			// The partner refuses for good: auditedAction, and the connection
			// ends all the same.
			reconnect()
			require.NoError(t, e.helpdesk.Inject(sim.Fault{Kind: sim.FaultForbidden, Method: http.MethodDelete}))
			out = disconnect()
			require.Contains(t, out["webhooks_error"], "deleting subscription")
			require.Contains(t, out["webhooks_error"], "HTTP 403")
			require.NotContains(t, out["webhooks_error"], helpdeskToken)
			require.True(t, ended())
			require.True(t, e.auditedAction(conn, "connection.webhooks_deregister_failed"))
		})
	}
}

// postUnsignedHook sends an unsigned delivery to url and returns the status.
func (e *env) postUnsignedHook(url string) int {
	e.t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(`{}`))
	require.NoError(e.t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// auditedAction reports whether the tenant's audit log has action on subject.
func (e *env) auditedAction(subject, action string) bool {
	e.t.Helper()
	entries, err := e.app.Store.ListAudit(e.t.Context(), tenantID, 0, 10000)
	require.NoError(e.t, err)
	for _, a := range entries {
		if a.Subject == subject && a.Action == action {
			return true
		}
	}
	return false
}
