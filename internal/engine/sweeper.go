package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/store"
)

// SweepArgs is the periodic job that queues events the fast path left
// pending: after a crash, or when its backlog was full.
type SweepArgs struct{}

// KindSweep is the job kind of SweepArgs.
const KindSweep = "accord_sweep_pending_events"

// Kind implements river.JobArgs.
func (SweepArgs) Kind() string { return KindSweep }

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	e *Engine
}

func (w *sweepWorker) Work(ctx context.Context, job *river.Job[SweepArgs]) error {
	_, err := w.e.SweepPending(ctx)
	return err
}

// SweepPending queues a job for every event pending longer than the
// configured grace, and marks them queued in the same transaction. It
// returns how many it queued.
func (e *Engine) SweepPending(ctx context.Context) (int, error) {
	if e.jobs == nil {
		return 0, nil
	}
	total := 0
	for {
		events, err := e.deps.Store.ListPendingEvents(ctx, e.deps.Now().Add(-e.cfg.SweepAfter), 500)
		if err != nil {
			return total, fmt.Errorf("listing pending events: %w", err)
		}
		if len(events) == 0 {
			return total, nil
		}
		jobs := make([]river.InsertManyParams, len(events))
		refs := make([]store.EventRef, len(events))
		for i, ev := range events {
			jobs[i] = NewEventJob(ev)
			refs[i] = store.EventRef{TenantID: ev.TenantID, ID: ev.ID}
		}
		err = e.deps.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			if _, err := e.jobs.InsertManyTx(ctx, tx, jobs); err != nil {
				return err
			}
			return tx.SetEventsState(ctx, refs, store.EventQueued)
		})
		if err != nil {
			return total, fmt.Errorf("queueing pending events: %w", err)
		}
		total += len(events)
		e.deps.Logger.InfoContext(ctx, "queued events the fast path left pending", "events", len(events))
		if len(events) < 500 {
			return total, nil
		}
	}
}

// sweepInterval is how often the leader looks for lingering events.
const sweepInterval = 5 * time.Second
