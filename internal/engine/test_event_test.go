package engine_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/store"
)

func TestDeliverTestEvent(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			tb := setupWith(t, setupOpts{postgres: backend == "postgres"})
			ctx := t.Context()
			// The wizard's installation before it is enabled.
			inst := tb.installation
			inst.ID, inst.State = "inst_setup", store.InstallationSetup
			require.NoError(t, tb.store.CreateInstallation(ctx, inst))
			require.NoError(t, tb.store.SetInstallationState(ctx, tb.tenantID, tb.installation.ID, store.InstallationUninstalled))

			// Live traffic does not reach it.
			outcome, err := tb.engine.DeliverOutcomeForTest(ctx, tb.event(t, escalated("T-live", 1, "Live", "high")))
			require.NoError(t, err)
			require.Equal(t, "no_installation", outcome)
			require.Zero(t, tb.incidents.Count())

			doc := escalated("T-test", 1, "Sample title", "low").data()
			res, err := tb.engine.DeliverTest(ctx, inst, "ticket.updated", doc)
			require.NoError(t, err)
			require.Equal(t, "applied", res.Outcome)
			require.False(t, res.Repeated)
			require.True(t, strings.HasPrefix(res.EventID, engine.TestEventPrefix), res.EventID)
			inc := tb.onlyIncident(t)
			require.Equal(t, "Sample title", inc.Title)
			require.Len(t, res.Actions, 2)
			require.Equal(t, engine.TestAction{Action: "create_incident", Target: "incidents.incident", TargetID: inc.ID, Outcome: "applied"}, res.Actions[0])
			require.Equal(t, "chat.message", res.Actions[1].Target)
			require.NotEmpty(t, res.Actions[1].TargetID)
			require.Len(t, tb.chat.Messages("escalations"), 1)

			// Marked as a test, and not counted as traffic.
			ev, err := tb.store.GetEvent(ctx, tb.tenantID, res.EventID)
			require.NoError(t, err)
			require.Equal(t, "test_applied", ev.Outcome)
			require.Equal(t, store.EventDone, ev.State)
			require.Zero(t, tb.events(t, "applied"))
			require.Zero(t, tb.actions(t, "", "applied"))

			// A second click: the same event, nothing sent again.
			again, err := tb.engine.DeliverTest(ctx, inst, "ticket.updated", doc)
			require.NoError(t, err)
			require.True(t, again.Repeated)
			require.Equal(t, res.EventID, again.EventID)
			require.Equal(t, inc.ID, again.Actions[0].TargetID)
			// An edited sample of the same record: still one incident.
			doc["title"] = "Edited title"
			edited, err := tb.engine.DeliverTest(ctx, inst, "ticket.updated", doc)
			require.NoError(t, err)
			require.NotEqual(t, res.EventID, edited.EventID)
			require.Equal(t, inc.ID, edited.Actions[0].TargetID)
			require.Equal(t, 1, tb.incidents.Count(), "never a second partner record for one test record")

			_, err = tb.engine.DeliverTest(ctx, inst, "ticket.deleted", doc)
			require.ErrorIs(t, err, engine.ErrTestEvent)
			delete(doc, "id")
			_, err = tb.engine.DeliverTest(ctx, inst, "ticket.updated", doc)
			require.ErrorContains(t, err, "the sample record has no id")
		})
	}
}

func TestTestSyncReadsAndDeliversOneRecord(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			hd := sim.NewHelpdesk(&sim.Config{Token: simToken, RateLimit: -1})
			hdSrv := httptest.NewServer(hd.Handler())
			t.Cleanup(hdSrv.Close)
			tb := setupWith(t, setupOpts{
				postgres: backend == "postgres",
				// The trigger also syncs tickets on a schedule.
				editContract: func(t *testing.T, yaml string) string {
					const cond = "      condition: ticket.status == \"escalated\"\n"
					require.Contains(t, yaml, cond)
					return strings.Replace(yaml, cond, cond+"    schedule:\n      provider: helpdesk\n      object: ticket\n      every: 15m\n", 1)
				},
				config: func(c *engine.Config) {
					next := c.Connector.LookupEnv
					c.Connector.LookupEnv = func(k string) (string, bool) {
						if k == "HELPDESK_URL" {
							return hdSrv.URL, true
						}
						return next(k)
					}
				},
			})
			ctx := t.Context()
			inst := tb.installation
			inst.ID, inst.State = "inst_setup", store.InstallationSetup
			require.NoError(t, tb.store.CreateInstallation(ctx, inst))
			require.NoError(t, tb.store.SetInstallationState(ctx, tb.tenantID, tb.installation.ID, store.InstallationUninstalled))
			tk, err := hd.CreateTicket(sim.Ticket{Title: "Refund stuck", Priority: "high"})
			require.NoError(t, err)
			tk, err = hd.Escalate(tk.ID)
			require.NoError(t, err)

			res, err := tb.engine.TestSync(ctx, inst, "ticket_escalated", tk.ID)
			require.NoError(t, err)
			require.Equal(t, "applied", res.Outcome)
			require.Equal(t, "Refund stuck", res.Source["title"], "the record as the partner has it")
			inc := tb.onlyIncident(t)
			require.Equal(t, tk.ID, inc.ExternalID)
			require.Equal(t, inc.ID, res.Actions[0].TargetID)

			again, err := tb.engine.TestSync(ctx, inst, "ticket_escalated", tk.ID)
			require.NoError(t, err)
			require.Equal(t, inc.ID, again.Actions[0].TargetID)
			require.Equal(t, 1, tb.incidents.Count(), "a second test sync of the record writes no second incident")

			_, err = tb.engine.TestSync(ctx, inst, "ticket_escalated", "no-such-ticket")
			require.ErrorIs(t, err, engine.ErrTestEvent)
			_, err = tb.engine.TestSync(ctx, inst, "nope", tk.ID)
			require.ErrorContains(t, err, "has no schedule trigger nope")
		})
	}
}
