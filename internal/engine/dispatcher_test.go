package engine_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/store"
)

func TestDispatcherDeliversAndMarksDone(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	q := tb.useQueue(t)
	d := tb.dispatcher(t, nil)

	ev := tb.pendingEvent(t, escalated("T-1", 3, "Checkout down", "high"))
	d.Dispatch([]store.Event{ev})

	tb.waitEventState(t, ev.ID, store.EventDone)
	inc := tb.onlyIncident(t)
	require.Equal(t, "Checkout down", inc.Title)
	require.Equal(t, 1, inc.Severity)
	link, err := tb.incidentLink(t, "T-1")
	require.NoError(t, err)
	require.Equal(t, inc.ID, link.TargetID)
	require.EqualValues(t, 3, link.Version)
	require.Len(t, tb.chat.Messages("escalations"), 1)

	depth, err := q.Depth(t.Context())
	require.NoError(t, err)
	require.Zero(t, depth, "delivered in process: nothing queued")
	require.Empty(t, tb.deliverJobs(t))
	require.EqualValues(t, 1, tb.counter(t, "accord_fast_path_events_total", map[string]string{"result": "delivered"}))
}

func TestDispatcherHandsOffToQueue(t *testing.T) {
	t.Parallel()
	const retryDelay = 3 * time.Second

	for _, tc := range []struct {
		name string
		// prepare makes the incident write fail.
		prepare func(t *testing.T, tb *testBundle)
		delay   time.Duration
	}{
		{"rate limited: Retry-After", func(t *testing.T, tb *testBundle) {
			require.NoError(t, tb.incidents.Inject(sim.Fault{Kind: sim.FaultRateLimit, RetryAfter: 7 * time.Second}))
		}, 7 * time.Second},
		{"partner down: RetryDelay", func(t *testing.T, tb *testBundle) {
			require.NoError(t, tb.incidents.Inject(sim.Fault{Kind: sim.FaultServerError, Status: http.StatusBadGateway}))
		}, retryDelay},
		{"connection paused: PauseInterval", func(t *testing.T, tb *testBundle) {
			conn := tb.connection(t, tb.incidentsConn)
			conn.State = store.ConnectionNeedsReconnect
			require.NoError(t, tb.store.UpdateConnection(t.Context(), conn))
		}, pauseInterval},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tb := setup(t)
			q := tb.useQueue(t)
			// The schedule must come from the engine's clock (months away
			// from real time), wherever it stands.
			tb.clock.Advance(90 * time.Minute)
			tc.prepare(t, tb)
			d := tb.engine.NewDispatcher(&engine.DispatcherConfig{RetryDelay: retryDelay})

			ev := tb.pendingEvent(t, escalated("T-1", 2, "Checkout down", "high"))
			d.Dispatch([]store.Event{ev})
			tb.waitEventState(t, ev.ID, store.EventQueued)
			// Close flushes any done mark: a handed-off event must not get one.
			d.Close(context.Background())
			require.Equal(t, store.EventQueued, tb.eventState(t, ev.ID))

			jobs := tb.deliverJobs(t)
			require.Len(t, jobs, 1, "exactly one job owns the event")
			job := jobs[0]
			require.Equal(t, engine.KindDeliver, job.Kind)
			require.Equal(t, eventJobArgs(ev), jobArgs(t, job))
			require.WithinDuration(t, tb.clock.Now().Add(tc.delay), job.ScheduledAt, time.Millisecond)
			require.Zero(t, job.Attempt, "the fast path's try is not a River attempt")
			require.Equal(t, 1000, job.MaxAttempts, "the delivery job's own budget")
			depth, err := q.Depth(t.Context())
			require.NoError(t, err)
			require.Equal(t, 1, depth)

			require.Zero(t, tb.incidents.Count())
			require.Empty(t, tb.recordErrors(t))
			require.EqualValues(t, 1, tb.counter(t, "accord_fast_path_events_total", map[string]string{"result": "handed_off"}))
			require.Zero(t, tb.counter(t, "accord_fast_path_events_total", map[string]string{"result": "delivered"}))

			// The queued job finishes the work the fast path started.
			tb.clock.Advance(tc.delay)
			conn := tb.connection(t, tb.incidentsConn)
			conn.State = store.ConnectionActive
			require.NoError(t, tb.store.UpdateConnection(t.Context(), conn))
			require.NoError(t, tb.engine.DeliverForTest(t.Context(), jobArgs(t, job)))
			tb.onlyIncident(t)
			require.Len(t, tb.chat.Messages("escalations"), 1, "chat, done on the fast path, is not repeated")
		})
	}
}

func TestDispatcherFullBacklogLeavesEventsPending(t *testing.T) {
	t.Parallel()
	gate := newSlowGate(t)
	tb := setupWith(t, setupOpts{
		simSleep: gate.sleep,
		config:   func(c *engine.Config) { c.SweepAfter = time.Minute },
	})
	tb.useQueue(t)
	require.NoError(t, tb.incidents.Inject(sim.Fault{Kind: sim.FaultSlow}))
	d := tb.engine.NewDispatcher(&engine.DispatcherConfig{Workers: 1, Backlog: 1})

	evs := make([]store.Event, 4)
	for i := range evs {
		evs[i] = tb.pendingEvent(t, escalated("T-"+itoa(i), 1, "Outage "+itoa(i), "high"))
	}
	// The only worker holds the first event at the slow partner; the
	// second fills the backlog; the rest do not fit.
	d.Dispatch(evs[:1])
	gate.waitEntered(t)
	d.Dispatch(evs[1:])
	require.EqualValues(t, 2, tb.counter(t, "accord_fast_path_overflow_total", nil))
	require.EqualValues(t, 2, tb.counter(t, "accord_fast_path_events_total", map[string]string{"result": "dropped"}))

	gate.open()
	tb.waitEventState(t, evs[0].ID, store.EventDone)
	tb.waitEventState(t, evs[1].ID, store.EventDone)
	d.Close(context.Background())
	for _, ev := range evs[2:] {
		require.Equal(t, store.EventPending, tb.eventState(t, ev.ID), "left for the sweeper")
	}
	require.Equal(t, 2, tb.incidents.Count())
	require.Empty(t, tb.deliverJobs(t))

	// Nothing is lost: the sweeper queues what did not fit.
	tb.clock.Advance(2 * time.Minute)
	n, err := tb.engine.SweepPending(t.Context())
	require.NoError(t, err)
	require.Equal(t, 2, n)
	jobs := tb.deliverJobs(t)
	require.Len(t, jobs, 2)
	require.ElementsMatch(t, []engine.DeliverArgs{eventJobArgs(evs[2]), eventJobArgs(evs[3])},
		[]engine.DeliverArgs{jobArgs(t, jobs[0]), jobArgs(t, jobs[1])})
}

func TestDispatcherCloseWaitsForInFlightDeliveries(t *testing.T) {
	t.Parallel()
	gate := newSlowGate(t)
	tb := setupWith(t, setupOpts{simSleep: gate.sleep})
	tb.useQueue(t)
	require.NoError(t, tb.incidents.Inject(sim.Fault{Kind: sim.FaultSlow}))
	d := tb.engine.NewDispatcher(&engine.DispatcherConfig{Workers: 2})

	ev := tb.pendingEvent(t, escalated("T-1", 1, "Checkout down", "high"))
	d.Dispatch([]store.Event{ev})
	gate.waitEntered(t)

	closed := make(chan struct{})
	go func() {
		d.Close(context.Background())
		close(closed)
	}()
	// Cannot fail wrongly: the partner has not answered, so a Close that
	// returned here did not wait. The checks after it are the real ones.
	select {
	case <-closed:
		t.Fatal("Close returned while a delivery was in flight")
	default:
	}
	gate.open()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return after the delivery finished")
	}

	// No polling: Close has recorded what was delivered.
	require.Equal(t, store.EventDone, tb.eventState(t, ev.ID))
	inc := tb.onlyIncident(t)
	link, err := tb.incidentLink(t, "T-1")
	require.NoError(t, err)
	require.Equal(t, inc.ID, link.TargetID)

	// After Close the fast path takes nothing: the event stays pending for
	// the sweeper.
	late := tb.pendingEvent(t, escalated("T-2", 1, "Search down", "high"))
	d.Dispatch([]store.Event{late})
	require.Equal(t, store.EventPending, tb.eventState(t, late.ID))
	require.Equal(t, 1, tb.incidents.Count())
}

// Close may be reached from more than one shutdown path (a deferred Close
// and App.Stop); a second call must not panic.
func TestDispatcherCloseTwice(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	tb.useQueue(t)
	d := tb.engine.NewDispatcher(&engine.DispatcherConfig{Workers: 1})
	d.Close(context.Background())
	require.NotPanics(t, func() { d.Close(context.Background()) })
}

// Close used to wait for in-flight deliveries up to the job timeout (5
// minutes), past the process's shutdown_timeout. When its context ends it
// cancels them; the event stays pending for the sweeper.
func TestDispatcherCloseStopsAtItsDeadline(t *testing.T) {
	t.Parallel()
	gate := newSlowGate(t)
	tb := setupWith(t, setupOpts{simSleep: gate.sleep})
	tb.useQueue(t)
	require.NoError(t, tb.incidents.Inject(sim.Fault{Kind: sim.FaultSlow}))
	d := tb.engine.NewDispatcher(&engine.DispatcherConfig{Workers: 2})

	ev := tb.pendingEvent(t, escalated("T-1", 1, "Checkout down", "high"))
	d.Dispatch([]store.Event{ev})
	gate.waitEntered(t)

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the shutdown deadline has passed
	closed := make(chan struct{})
	go func() {
		d.Close(ctx)
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close waited for the slow partner past its deadline")
	}
	require.Equal(t, store.EventPending, tb.eventState(t, ev.ID), "left for the sweeper")
	require.Empty(t, tb.deliverJobs(t), "no hand-off raced the shutdown")
}
