package engine_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/sim"
)

// A writer whose object lease lapsed (a stalled process, a cut-off
// network) must not send its next partner call: another process may own
// the object by then. The lookup before the create is held until the
// lease could have expired; the create then never goes out, and the job
// waits for the object instead.
func TestLapsedLeaseFencesTheNextPartnerCall(t *testing.T) {
	t.Parallel()
	gate := newSlowGate(t)
	tb := setupWith(t, setupOpts{postgres: true, simSleep: gate.sleep})
	require.NoError(t, tb.incidents.Inject(sim.Fault{Kind: sim.FaultSlow, Method: http.MethodGet}))

	args := tb.event(t, escalated("T-1", 1, "Checkout down", "high"))
	done := make(chan error, 1)
	go func() { done <- tb.deliver(t, args) }()
	gate.waitEntered(t) // the lookup by external id is in flight
	tb.clock.Advance(time.Minute)
	gate.open()

	require.Positive(t, requireSnooze(t, <-done), "the job waits for the object")
	require.Zero(t, tb.incidents.Count(), "no create after the lease lapsed")
	for _, w := range tb.front.writes() {
		require.NotEqual(t, http.MethodPost, w.Method)
	}

	// Once the lease is renewable again the next run writes normally.
	require.NoError(t, tb.deliver(t, args))
	require.Equal(t, 1, tb.incidents.Count())
	link, err := tb.incidentLink(t, "T-1")
	require.NoError(t, err)
	require.Equal(t, args.EventID, link.EventID)
}
