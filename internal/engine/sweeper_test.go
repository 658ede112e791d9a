package engine_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/store"
)

const sweepAfter = time.Minute

func setupSweep(t *testing.T) *testBundle {
	t.Helper()
	tb := setupWith(t, setupOpts{config: func(c *engine.Config) { c.SweepAfter = sweepAfter }})
	tb.useQueue(t)
	return tb
}

func TestSweepPendingQueuesOnlyLingeringEvents(t *testing.T) {
	t.Parallel()
	tb := setupSweep(t)

	old := tb.pendingEvent(t, escalated("T-old", 1, "Old", "high"))
	oldQueued := tb.pendingEvent(t, escalated("T-queued", 1, "Queued", "high"))
	oldDone := tb.pendingEvent(t, escalated("T-done", 1, "Done", "high"))
	ctx := t.Context()
	require.NoError(t, tb.store.SetEventsState(ctx, []store.EventRef{{TenantID: tb.tenantID, ID: oldQueued.ID}}, store.EventQueued))
	require.NoError(t, tb.store.SetEventsState(ctx, []store.EventRef{{TenantID: tb.tenantID, ID: oldDone.ID}}, store.EventDone))
	tb.clock.Advance(50 * time.Second)
	young := tb.pendingEvent(t, escalated("T-young", 1, "Young", "high"))
	tb.clock.Advance(20 * time.Second) // old: 70s pending, young: 20s

	n, err := tb.engine.SweepPending(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	require.Equal(t, store.EventQueued, tb.eventState(t, old.ID))
	require.Equal(t, store.EventPending, tb.eventState(t, young.ID), "the fast path may still be on it")
	require.Equal(t, store.EventQueued, tb.eventState(t, oldQueued.ID))
	require.Equal(t, store.EventDone, tb.eventState(t, oldDone.ID))
	jobs := tb.deliverJobs(t)
	require.Len(t, jobs, 1)
	require.Equal(t, eventJobArgs(old), jobArgs(t, jobs[0]))
	require.Equal(t, 1000, jobs[0].MaxAttempts)

	n, err = tb.engine.SweepPending(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "a queued event is the queue's: not queued twice")
	require.Len(t, tb.deliverJobs(t), 1)

	// Once the young one lingers too, it is swept.
	tb.clock.Advance(sweepAfter)
	n, err = tb.engine.SweepPending(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, store.EventQueued, tb.eventState(t, young.ID))
	jobs = tb.deliverJobs(t)
	require.Len(t, jobs, 2)
	require.Equal(t, eventJobArgs(young), jobArgs(t, jobs[1]))

	require.Zero(t, tb.incidents.Count(), "the sweeper queues; it does not deliver")
}

// The sweeper works in pages; a backlog bigger than one (a long outage of
// the fast path) is queued in full, one job per event.
func TestSweepPendingQueuesMoreThanOnePage(t *testing.T) {
	t.Parallel()
	tb := setupSweep(t)
	ctx := t.Context()

	const n = 1001 // two full pages and one event
	want := map[string]bool{}
	require.NoError(t, tb.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		for i := range n {
			ev := store.Event{
				TenantID: tb.tenantID, ID: "ev_" + uuid.NewString(), ConnectionID: tb.helpdeskConn, DedupKey: "d" + itoa(i),
				Type: "ticket.updated", ObjectID: "T-" + itoa(i), ObjectVersion: 1, Payload: []byte(`{}`), ReceivedAt: tb.clock.Now(),
			}
			if _, err := tx.InsertEvent(ctx, ev); err != nil {
				return err
			}
			want[ev.ID] = true
		}
		return nil
	}))
	tb.clock.Advance(2 * sweepAfter)

	swept, err := tb.engine.SweepPending(ctx)
	require.NoError(t, err)
	require.Equal(t, n, swept)

	// Read straight from River's table: a thousand JobByID calls would
	// make this the package's slowest test.
	rows, err := tb.store.Driver().(*sql.DB).QueryContext(ctx, "SELECT json(args) FROM river_job WHERE kind = ?", engine.KindDeliver)
	require.NoError(t, err)
	jobs := 0
	for rows.Next() {
		var raw []byte
		require.NoError(t, rows.Scan(&raw))
		var args engine.DeliverArgs
		require.NoError(t, json.Unmarshal(raw, &args))
		require.True(t, want[args.EventID], "job for an unknown or already-queued event %s", args.EventID)
		delete(want, args.EventID)
		jobs++
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.Equal(t, n, jobs)
	left, err := tb.store.ListPendingEvents(ctx, tb.clock.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Empty(t, left)

	swept, err = tb.engine.SweepPending(ctx)
	require.NoError(t, err)
	require.Zero(t, swept)
}

func TestSweepPendingWithoutQueueDoesNothing(t *testing.T) {
	t.Parallel()
	tb := setupWith(t, setupOpts{config: func(c *engine.Config) { c.SweepAfter = sweepAfter }})
	ev := tb.pendingEvent(t, escalated("T-1", 1, "Old", "high"))
	tb.clock.Advance(2 * sweepAfter)

	n, err := tb.engine.SweepPending(t.Context())
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, store.EventPending, tb.eventState(t, ev.ID), "still there for a process with a queue")
}
