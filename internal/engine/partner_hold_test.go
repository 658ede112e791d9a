package engine_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/sim"
)

// Each process kept its own copy of a partner's Retry-After, so one
// worker's 429 did not slow the others. The hold is shared through the
// store: a second engine over the same database holds that tenant's
// writes to that partner too, without calling it.
func TestRetryAfterIsSharedAcrossProcesses(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, pg bool) {
		tb := setupOn(t, pg, setupOpts{})
		require.NoError(t, tb.incidents.Inject(sim.Fault{Kind: sim.FaultRateLimit, RetryAfter: 30 * time.Second}))
		requireSnooze(t, tb.deliver(t, tb.event(t, escalated("T-1", 1, "Checkout down", "high"))))

		other := tb.secondEngine(t)
		n, err := other.ApplyPartnerHolds(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1, n)
		calls := tb.incidents.Count()
		wait := requireSnooze(t, other.DeliverForTest(t.Context(), tb.event(t, escalated("T-2", 1, "Search down", "high"))))
		require.InDelta(t, (30 * time.Second).Seconds(), wait.Seconds(), 1, "held for the partner's Retry-After, learned from the other process")
		require.Equal(t, calls, tb.incidents.Count(), "the partner was not called")
	})
}
