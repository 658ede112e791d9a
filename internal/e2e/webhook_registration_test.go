package e2e

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/web/api"
)

// TestWebhookRegistrationInstallToUninstall: the helpdesk connection is
// made without a webhook secret, so installing subscribes it through the
// helpdesk's API. The first install's create is answered never (the
// partner made the subscription, the answer was lost): that install fails
// and the retry must not leave two subscriptions. Then an escalation
// arrives through the registered subscription, signed with the secret
// Accord generated, and is applied; uninstall deletes the subscription
// and wipes the secret.
func TestWebhookRegistrationInstallToUninstall(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := setupWith(t, b, &setupOptions{NoInstall: true})
			ctx := t.Context()
			c := e.api()
			ids := e.connectForRegistration(t)
			var err error
			e.helpdeskConn, e.incidentsConn, e.chatConn = ids["helpdesk"], ids["incidents"], ids["chat"]
			hookURL := e.url + "/hooks/" + e.helpdeskConn

			// The helpdesk refuses the subscription: the install says what
			// failed and what to do, and stores nothing.
			require.NoError(t, e.helpdesk.Inject(sim.Fault{Kind: sim.FaultForbidden, Method: http.MethodPost}))
			_, err = c.CreateInstallation(ctx, tenantID, "escalation", ids)
			var ce *api.ClientError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, http.StatusBadGateway, ce.Status)
			require.Contains(t, ce.Message, "the installation was not created: webhook registration of helpdesk connection "+e.helpdeskConn+": creating the subscription")
			require.Contains(t, ce.Message, "HTTP 403")
			require.Contains(t, ce.Message, "the connection may not manage webhooks at helpdesk: grant it that permission (scope), then try again")
			require.Empty(t, e.helpdesk.Webhooks())

			// Next install: the helpdesk creates the subscription but its
			// answer never comes; the caller gives up once it exists.
			require.NoError(t, e.helpdesk.Inject(sim.Fault{Kind: sim.FaultHangAfter, Method: http.MethodPost, Delay: waitFor}))
			lost, cancel := context.WithCancel(ctx)
			go func() {
				defer cancel()
				for lost.Err() == nil && len(e.helpdesk.Webhooks()) == 0 {
					time.Sleep(5 * time.Millisecond)
				}
			}()
			_, err = c.CreateInstallation(lost, tenantID, "escalation", ids)
			require.Error(t, err)
			orphan := e.helpdesk.Webhooks()
			require.Len(t, orphan, 1, "the partner made a subscription whose answer was lost")
			// A failed registration stores no installation.
			status, list := e.call(http.MethodGet, "/api/v1/tenants/acme/installations", nil)
			require.Equal(t, http.StatusOK, status)
			require.Empty(t, list["installations"])

			// The retry: exactly one subscription, to Accord's hook URL,
			// for the contract's event types.
			var inst api.Installation
			require.Eventually(t, func() bool {
				inst, err = c.CreateInstallation(ctx, tenantID, "escalation", ids)
				var ce *api.ClientError
				if errors.As(err, &ce) && ce.Status == http.StatusServiceUnavailable {
					return false // the first attempt still holds the registration
				}
				require.NoError(t, err)
				return true
			}, waitFor, 20*time.Millisecond)
			e.installation = inst.ID
			hooks := e.helpdesk.Webhooks()
			require.Len(t, hooks, 1, "a retried install does not subscribe twice")
			require.NotEqual(t, orphan[0].ID, hooks[0].ID, "the lost subscription was deleted, a fresh one made")
			require.Equal(t, hookURL, hooks[0].URL)
			require.Equal(t, []string{"ticket.created", "ticket.updated"}, hooks[0].Events)
			require.Len(t, inst.Webhooks, 1)
			require.Equal(t, hooks[0].ID, inst.Webhooks[0].SubscriptionID)
			require.True(t, inst.Webhooks[0].Created)

			// The secret the helpdesk signs with is sealed in the vault.
			secret := e.webhookExtra(e.helpdeskConn)
			require.Regexp(t, `^whsec_[A-Za-z0-9+/=]{40,}$`, secret[credential.ExtraWebhookSecret])
			require.Equal(t, hooks[0].ID, secret[credential.ExtraWebhookSubscription])
			require.Empty(t, secret[credential.ExtraWebhookPending])

			// Registering again (another install over the connection) is a
			// no-op.
			res, err := e.app.Webhooks.Register(ctx, tenantID, e.helpdeskConn, []string{"ticket.updated"}, "test")
			require.NoError(t, err)
			require.False(t, res.Created)
			require.Len(t, e.helpdesk.Webhooks(), 1)

			// Traffic through the registered subscription, verified and
			// applied: one incident.
			tk := e.escalate("registered", "high", "")
			e.waitIncident(tk.ID)
			e.barrier()
			require.Len(t, e.incidentsFor(tk.ID), 1)

			status, u := e.call(http.MethodPost, "/api/v1/tenants/acme/installations/"+e.installation+"/uninstall", nil)
			require.Equal(t, http.StatusAccepted, status, u)
			require.Eventually(t, func() bool {
				_, u = e.call(http.MethodGet, "/api/v1/tenants/acme/installations/"+e.installation+"/uninstall", nil)
				return u["state"] == "retaining"
			}, waitFor, 20*time.Millisecond)
			var deregistered map[string]any
			for _, s := range u["steps"].([]any) {
				if st := s.(map[string]any); st["step"] == "deregister_webhooks" {
					deregistered = st
				}
			}
			require.NotNil(t, deregistered, "steps: %v", u["steps"])
			require.EqualValues(t, 1, deregistered["count"])
			require.Empty(t, e.helpdesk.Webhooks(), "the subscription is gone at the partner")
			conn, err := e.app.Store.GetConnection(ctx, tenantID, e.helpdeskConn)
			require.NoError(t, err)
			require.Equal(t, store.ConnectionDisconnected, conn.State)
			require.Empty(t, conn.Secret, "the webhook secret is wiped")

			// Deregistering again is idempotent.
			gone, err := e.app.Webhooks.Deregister(ctx, tenantID, e.helpdeskConn, "test")
			require.NoError(t, err)
			require.False(t, gone)
		})
	}
}

// TestHandSubscribedConnectionIsNotRegistered: a connection given its
// webhook secret by hand (setup subscribes the simulator itself) is not
// also registered through the partner's API, which would deliver every
// change twice.
func TestHandSubscribedConnectionIsNotRegistered(t *testing.T) {
	t.Parallel()
	e := setup(t, "sqlite")
	require.Empty(t, e.helpdesk.Webhooks())
	tk := e.escalate("by hand", "high", "")
	e.waitIncident(tk.ID)
	require.Empty(t, e.webhookExtra(e.helpdeskConn)[credential.ExtraWebhookSubscription])
}

// webhookExtra opens a connection's sealed secret and returns its Extra.
func (e *env) webhookExtra(connID string) map[string]string {
	e.t.Helper()
	conn, err := e.app.Store.GetConnection(e.t.Context(), tenantID, connID)
	require.NoError(e.t, err)
	sec, err := e.app.Vault.OpenSecret(e.t.Context(), tenantID, conn.Secret)
	require.NoError(e.t, err)
	return sec.Extra
}

// connectForRegistration creates the tenant and the escalation pack's
// three connections with no webhook secret, so installing subscribes the
// helpdesk one through the partner's API; it returns their ids by
// provider.
func (e *env) connectForRegistration(t *testing.T) map[string]string {
	t.Helper()
	c := e.api()
	_, err := c.CreateTenant(t.Context(), tenantID, "Acme Corp")
	require.NoError(t, err)
	ids := map[string]string{}
	for provider, in := range map[string]api.ConnectionInput{
		"helpdesk":  {Provider: "helpdesk", APIKey: helpdeskToken},
		"incidents": {Provider: "incidents", APIKey: incidentsToken},
		"chat":      {Provider: "chat", APIKey: chatToken},
	} {
		conn, err := c.CreateConnection(t.Context(), tenantID, in)
		require.NoError(t, err)
		ids[provider] = conn.ID
	}
	return ids
}
