package engine_test

import (
	"errors"
	"testing"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"
)

// The incidents manifest allows 50 requests/s with a burst of 100, and
// each new incident is a lookup by external id and a create: two
// requests. The limiter used to be charged once per write, so with the
// clock standing still 100 writes — 200 requests — went out at once.
func TestDeliverChargesEachPartnerRequest(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	sent, held := 0, 0
	for i := range 150 {
		err := tb.deliver(t, tb.event(t, escalated("T-"+itoa(i), 1, "Checkout down", "high")))
		var snooze *river.JobSnoozeError
		switch {
		case err == nil:
			sent++
		case errors.As(err, &snooze):
			held++
		default:
			require.NoError(t, err)
		}
	}
	tb.front.mu.Lock()
	requests := len(tb.front.requests)
	tb.front.mu.Unlock()
	require.LessOrEqual(t, requests, 100, "requests to the partner in one instant: the manifest's burst")
	require.Equal(t, 50, sent, "a lookup and a create each: the burst is 50 writes")
	require.Equal(t, 100, held, "the others wait for their turn")
	require.Equal(t, 50, tb.incidents.Count())
}
