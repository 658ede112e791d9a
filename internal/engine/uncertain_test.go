package engine_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/sim"
)

// lateOpts: a partner that can hold a request past the client's timeout
// and apply it afterwards (sim.FaultApplyLate), with a short client
// timeout so no test waits the default 30 s.
func lateOpts(gate *slowGate, edit func(*testing.T, string) string) setupOpts {
	return setupOpts{
		editContract: edit,
		simSleep:     gate.sleep,
		config: func(c *engine.Config) {
			c.Connector.Timeout = 3 * time.Second
			c.MaxAnswerWindow = 2 * time.Minute
		},
	}
}

func (tb *testBundle) waitIncidentTitle(t *testing.T, title string) {
	t.Helper()
	require.Eventually(t, func() bool {
		all := tb.incidents.Incidents()
		return len(all) == 1 && all[0].Title == title
	}, 30*time.Second, 5*time.Millisecond, "the incident never held %q", title)
}

// A PATCH that timed out but was applied later overwrote newer data, the
// retry of its event was then skipped as stale, and the link said the
// partner was current. The unanswered write marks the object uncertain;
// after the answer window the newest state is written again.
func TestLateAppliedUpdateIsRepairedAfterTheAnswerWindow(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, pg bool) {
		gate := newSlowGate(t)
		tb := setupOn(t, pg, lateOpts(gate, upsertIncidents("")))

		require.NoError(t, tb.deliver(t, tb.event(t, escalated("T-1", 1, "one", "low"))))
		require.NoError(t, tb.incidents.Inject(sim.Fault{Kind: sim.FaultApplyLate, Method: http.MethodPatch}))
		v2 := tb.event(t, escalated("T-1", 2, "two", "low"))
		requireRetry(t, tb.deliver(t, v2)) // the PATCH timed out: no answer
		gate.waitEntered(t)
		require.NoError(t, tb.deliver(t, tb.event(t, escalated("T-1", 3, "three", "high"))))
		require.Equal(t, "three", tb.onlyIncident(t).Title)

		gate.open() // the partner applies the old PATCH now
		tb.waitIncidentTitle(t, "two")
		n, err := tb.engine.SettleUncertain(t.Context())
		require.NoError(t, err)
		require.Zero(t, n, "not settled while the old write may still land")

		tb.clock.Advance(3 * time.Minute)
		n, err = tb.engine.SettleUncertain(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Equal(t, "three", tb.onlyIncident(t).Title, "the newest state was written again")
		link, err := tb.incidentLink(t, "T-1")
		require.NoError(t, err)
		require.False(t, link.Uncertain)
		require.EqualValues(t, 3, link.Version)

		require.NoError(t, tb.deliver(t, v2), "the retry of the old event")
		require.Equal(t, "three", tb.onlyIncident(t).Title, "stale: it does not overwrite")
		n, err = tb.engine.SettleUncertain(t.Context())
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

// A create that timed out and landed later left a second object when its
// retry created again. Against a partner with a lookup but no idempotency
// key (a search index that may lag) it is not re-sent before the answer
// window has passed, and then the lookup adopts the object that landed.
func TestLateAppliedCreateIsAdoptedNotDuplicated(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, pg bool) {
		gate := newSlowGate(t)
		opts := lateOpts(gate, nil)
		opts.editIncidents = func(t *testing.T, yaml string) string {
			const key = "        idempotency_header: Idempotency-Key\n"
			require.Contains(t, yaml, key)
			return strings.Replace(yaml, key, "", 1)
		}
		tb := setupOn(t, pg, opts)

		require.NoError(t, tb.incidents.Inject(sim.Fault{Kind: sim.FaultApplyLate, Method: http.MethodPost}))
		args := tb.event(t, escalated("T-1", 1, "Checkout down", "high"))
		wait := requireSnooze(t, tb.deliver(t, args))
		require.Equal(t, 2*time.Minute, wait, "the create waits out the partner's answer window")
		gate.waitEntered(t)
		gate.open()
		require.Eventually(t, func() bool { return tb.incidents.Count() == 1 }, 30*time.Second, 5*time.Millisecond, "the late create landed")

		requireSnooze(t, tb.deliver(t, args)) // still inside the window: nothing sent
		tb.clock.Advance(3 * time.Minute)
		require.NoError(t, tb.deliver(t, args))
		require.Equal(t, 1, tb.incidents.Count(), "adopted, not created again")
		link, err := tb.incidentLink(t, "T-1")
		require.NoError(t, err)
		require.Equal(t, tb.onlyIncident(t).ID, link.TargetID)
		require.False(t, link.Uncertain)
		require.Len(t, tb.chat.Messages("escalations"), 1)
	})
}

// With an idempotency key the partner dedups the retry of an unanswered
// create whenever the first one lands: no wait, and still one object.
func TestUnansweredCreateWithIdempotencyKeyRetriesAtOnce(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, pg bool) {
		gate := newSlowGate(t)
		tb := setupOn(t, pg, lateOpts(gate, nil))

		require.NoError(t, tb.incidents.Inject(sim.Fault{Kind: sim.FaultApplyLate, Method: http.MethodPost}))
		args := tb.event(t, escalated("T-1", 1, "Checkout down", "high"))
		requireRetry(t, tb.deliver(t, args))
		gate.waitEntered(t)
		gate.open()
		require.Eventually(t, func() bool { return tb.incidents.Count() == 1 }, 30*time.Second, 5*time.Millisecond, "the late create landed")
		require.NoError(t, tb.deliver(t, args), "retried at once")
		require.Equal(t, 1, tb.incidents.Count(), "the partner replayed the first create for the same key")
		link, err := tb.incidentLink(t, "T-1")
		require.NoError(t, err)
		require.Equal(t, tb.onlyIncident(t).ID, link.TargetID)
	})
}

// A partner's own answer window (max_answer_window in its manifest) is the
// wait before an unanswered create may be sent again.
func TestManifestAnswerWindowIsHonoured(t *testing.T) {
	t.Parallel()
	gate := newSlowGate(t)
	opts := lateOpts(gate, nil)
	opts.editIncidents = func(t *testing.T, yaml string) string {
		const key = "        idempotency_header: Idempotency-Key\n"
		require.Contains(t, yaml, key)
		return strings.Replace(yaml, key, "", 1) + "max_answer_window: 45s\n"
	}
	tb := setupWith(t, opts)
	require.NoError(t, tb.incidents.Inject(sim.Fault{Kind: sim.FaultApplyLate, Method: http.MethodPost}))
	wait := requireSnooze(t, tb.deliver(t, tb.event(t, escalated("T-1", 1, "Checkout down", "high"))))
	require.Equal(t, 45*time.Second, wait, "the incident tool's window, not the default 2m")
	gate.open()
}

// With conditional writes declared (if_match on update), a PATCH that
// timed out and reaches the partner after a newer one is refused there
// (412): the newer data is never overwritten, not even for a moment.
func TestLateUpdateIsRefusedByIfMatch(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, pg bool) {
		gate := newSlowGate(t)
		opts := lateOpts(gate, upsertIncidents(""))
		opts.editIncidents = func(t *testing.T, yaml string) string {
			const update = `update: {method: PATCH, path: "/v1/incidents/{id}", body: incident, item: incident}`
			require.Contains(t, yaml, update)
			return strings.Replace(yaml, update, `update: {method: PATCH, path: "/v1/incidents/{id}", body: incident, item: incident, if_match: true}`, 1)
		}
		tb := setupOn(t, pg, opts)

		require.NoError(t, tb.deliver(t, tb.event(t, escalated("T-1", 1, "one", "low"))))
		require.NoError(t, tb.incidents.Inject(sim.Fault{Kind: sim.FaultApplyLate, Method: http.MethodPatch}))
		requireRetry(t, tb.deliver(t, tb.event(t, escalated("T-1", 2, "two", "low"))))
		gate.waitEntered(t)
		require.NoError(t, tb.deliver(t, tb.event(t, escalated("T-1", 3, "three", "high"))))
		link, err := tb.incidentLink(t, "T-1")
		require.NoError(t, err)
		require.Equal(t, `"2"`, link.ETag, "the ETag of the partner's last answer, for the next If-Match")

		before := tb.front.answered()
		gate.open() // the old PATCH arrives now, carrying the old ETag
		require.Eventually(t, func() bool { return tb.front.answered() > before }, 30*time.Second, 5*time.Millisecond)
		require.Equal(t, "three", tb.onlyIncident(t).Title, "refused with 412: the newer data stays")
	})
}
