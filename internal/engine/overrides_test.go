package engine_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

func (tb *testBundle) setOverrides(t *testing.T, o spec.Overrides) {
	t.Helper()
	raw, err := json.Marshal(o)
	require.NoError(t, err)
	require.NoError(t, tb.store.SetInstallationOverrides(t.Context(), tb.tenantID, tb.installation.ID, raw))
}

func TestInstallationOverridesAreApplied(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			tb := setupWith(t, setupOpts{postgres: backend == "postgres"})
			tb.setOverrides(t, spec.Overrides{Fields: map[string]spec.FieldOverride{
				"create_incident.severity": {Value: 1},
				"create_incident.title":    {Expr: `"[Acme] " + ticket.title`},
				"notify_chat.channel":      {Value: "acme-escalations"},
			}})

			tk := escalated("T-1", 1, "Login broken", "low")
			outcome, err := tb.engine.DeliverOutcomeForTest(t.Context(), tb.event(t, tk))
			require.NoError(t, err)
			require.Equal(t, "applied", outcome)

			inc := tb.onlyIncident(t)
			require.Equal(t, 1, inc.Severity, "the installation's constant, not the contract's low → 3")
			require.Equal(t, "[Acme] Login broken", inc.Title, "the installation's expression")
			require.Equal(t, tk.url(), inc.Link, "rows not overridden map as the contract says")
			require.Len(t, tb.chat.Messages("acme-escalations"), 1)
			require.Empty(t, tb.chat.Messages("escalations"))
		})
	}
}

func TestSwitchedOffTriggerFiltersItsEvents(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			tb := setupWith(t, setupOpts{postgres: backend == "postgres"})
			tb.setOverrides(t, spec.Overrides{DisabledTriggers: []string{"ticket_escalated"}})

			args := tb.event(t, escalated("T-1", 1, "Login broken", "high"))
			outcome, err := tb.engine.DeliverOutcomeForTest(t.Context(), args)
			require.NoError(t, err)
			require.Equal(t, "filtered", outcome, "an event of a switched-off trigger ends filtered, not no_installation")
			require.Zero(t, tb.incidents.Count())
			require.Empty(t, tb.chat.Messages("escalations"))
			require.Empty(t, tb.recordErrors(t))
			require.EqualValues(t, 1, tb.counter(t, "accord_trigger_filtered_total", map[string]string{"reason": "trigger_off"}),
				"the reason is counted")
			require.EqualValues(t, 1, tb.events(t, "filtered"))
		})
	}
}

func TestOverridesThatNoLongerFitHoldTheEvent(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	// Stored behind the API's back (the API refuses it): a row the
	// contract does not let an installation change.
	tb.setOverrides(t, spec.Overrides{Fields: map[string]spec.FieldOverride{"create_incident.link": {Value: "x"}}})

	err := tb.deliver(t, tb.event(t, escalated("T-1", 1, "Login broken", "high")))
	requireSnooze(t, err)
	require.Zero(t, tb.incidents.Count(), "nothing written with a mapping the contract does not allow")

	inst, err := tb.store.GetInstallation(t.Context(), tb.tenantID, tb.installation.ID)
	require.NoError(t, err)
	_, err = engine.InstallationOverrides(inst)
	require.NoError(t, err)
	require.Equal(t, store.InstallationActive, inst.State)
}
