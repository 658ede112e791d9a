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

// InsertOpts makes the sweep unique per interval: a leader change or a
// slow sweep never stacks several of them.
func (SweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: sweepInterval}}
}

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	e *Engine
}

func (w *sweepWorker) Work(ctx context.Context, job *river.Job[SweepArgs]) error {
	_, err := w.e.SweepPending(ctx)
	return err
}

// SweepPending queues a job for every event pending longer than the
// configured grace. Claiming the events (pending → queued) and inserting
// their jobs is one transaction, so of two sweepers (a leader change, a
// second process) exactly one queues each event, and an event the fast
// path finished meanwhile (done) is never claimed. It returns how many it
// queued.
func (e *Engine) SweepPending(ctx context.Context) (int, error) {
	if e.jobs == nil {
		return 0, nil
	}
	const batch = 500
	total := 0
	for {
		var claimed int
		err := e.deps.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			events, err := tx.ClaimPendingEvents(ctx, e.deps.Now().Add(-e.cfg.SweepAfter), batch)
			if err != nil {
				return fmt.Errorf("claiming pending events: %w", err)
			}
			claimed = len(events)
			if claimed == 0 {
				return nil
			}
			jobs := make([]river.InsertManyParams, len(events))
			for i, ev := range events {
				jobs[i] = NewEventJob(ev)
			}
			_, err = e.jobs.InsertManyTx(ctx, tx, jobs)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("queueing pending events: %w", err)
		}
		total += claimed
		if claimed > 0 {
			e.deps.Logger.InfoContext(ctx, "queued events the fast path left pending", "events", claimed)
		}
		if claimed < batch {
			return total, nil
		}
	}
}

// sweepInterval is how often the leader looks for lingering events.
const sweepInterval = 5 * time.Second
