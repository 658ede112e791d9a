package engine_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// A newer version whose mapped values equal what Accord last wrote (its own
// write coming back in two-way sync, a poll and a webhook of one change, or
// a change to a field the action does not map) sends nothing, advances the
// watermark, and is counted; a real change after it is written.
func TestUnchangedValuesAreNotWrittenAgain(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, pg bool) {
		tb := setupOn(t, pg, setupOpts{editContract: upsertIncidents("")})

		require.NoError(t, tb.deliver(t, tb.event(t, escalated("T-1", 1, "Checkout slow", "low"))))
		inc := tb.onlyIncident(t)
		// Version 2 changes only the ticket's status history, nothing mapped.
		require.NoError(t, tb.deliver(t, tb.event(t, escalated("T-1", 2, "Checkout slow", "low"))))
		require.Equal(t, []partnerRequest{{http.MethodPost, "/v1/incidents"}}, tb.front.writes(), "no second write of the same values")
		require.EqualValues(t, 1, tb.counter(t, "accord_echo_suppressed_total", map[string]string{"provider": "incidents"}))
		link, err := tb.incidentLink(t, "T-1")
		require.NoError(t, err)
		require.EqualValues(t, 2, link.Version, "the watermark advances, so version 1 stays stale")

		require.NoError(t, tb.deliver(t, tb.event(t, escalated("T-1", 3, "Checkout down", "low"))))
		require.Equal(t, []partnerRequest{{http.MethodPost, "/v1/incidents"}, {http.MethodPatch, "/v1/incidents/" + inc.ID}}, tb.front.writes())
		require.Equal(t, "Checkout down", tb.onlyIncident(t).Title)
	})
}
