package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/accordhq/accord/internal/store"
)

// ProcessLeasePrefix starts the key of every worker process's liveness
// lease: "queue-process:<client id>".
const ProcessLeasePrefix = "queue-process:"

// ErrDuplicateClientID is returned by Start when another live process
// heartbeats under this Queue's client ID: their jobs would be told apart
// by nothing.
var ErrDuplicateClientID = errors.New("queue: client id in use by another live process")

// processKey is the heartbeat lease key of the client with id.
func processKey(id string) string { return ProcessLeasePrefix + id }

// heartbeat keeps this process's liveness lease for as long as it works
// jobs: StrandedJobs tells a running job whose process died from one
// still being worked by it.
type heartbeat struct {
	st      store.Store
	key, id string
	// holder is the client id plus a random suffix: a second Queue
	// configured with the same id must not pass for this one's renewal.
	holder   string
	interval time.Duration
	ttl      time.Duration
	logger   interface{ Warn(string, ...any) }
	stop     chan struct{}
	done     chan struct{}
}

// start takes the lease once (failing if another live process holds it)
// and renews it in the background.
func (h *heartbeat) start(ctx context.Context) error {
	if h.holder == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		h.holder = h.id + "#" + hex.EncodeToString(b[:])
	}
	ok, err := h.st.AcquireProcessLease(ctx, h.key, h.holder, h.ttl)
	if err != nil {
		return fmt.Errorf("queue: heartbeat: %w", err)
	}
	if !ok {
		return fmt.Errorf("%w: %q", ErrDuplicateClientID, h.id)
	}
	h.stop, h.done = make(chan struct{}), make(chan struct{})
	go h.run(ctx)
	return nil
}

func (h *heartbeat) run(ctx context.Context) {
	defer close(h.done)
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			// A failed beat is retried at the next tick; the TTL spans
			// two missed beats.
			beatCtx, cancel := context.WithTimeout(ctx, h.interval)
			ok, err := h.st.AcquireProcessLease(beatCtx, h.key, h.holder, h.ttl)
			cancel()
			switch {
			case err != nil:
				h.logger.Warn("queue heartbeat failed", "client_id", h.id, "err", err)
			case !ok:
				h.logger.Warn("queue heartbeat lease held by another process", "client_id", h.id)
			}
		}
	}
}

// end stops renewing and releases the lease: the process is leaving.
func (h *heartbeat) end(ctx context.Context) error {
	if h.stop == nil {
		return nil
	}
	close(h.stop)
	<-h.done
	h.stop = nil
	if err := h.st.ReleaseProcessLease(context.WithoutCancel(ctx), h.key, h.holder); err != nil {
		return fmt.Errorf("queue: releasing heartbeat: %w", err)
	}
	return nil
}

// discardWatcher calls Config.OnDiscard for the jobs this process
// discarded, from River's event stream: an event is sent after River
// recorded the job's final state, once per job.
type discardWatcher struct {
	fn     func(ctx context.Context, job Job, err string)
	cancel func()
	wg     sync.WaitGroup
}

func (d *discardWatcher) start(ctx context.Context, b backend) {
	// Sized far above River's default (1,000) so that a burst of discards
	// is not dropped while the callback runs.
	events, cancel := b.subscribeSized(10_000, []river.EventKind{river.EventKindJobFailed})
	d.cancel = cancel
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		// River closes the channel when the client stops.
		for ev := range events {
			if ev.Job == nil || ev.Job.State != JobStateDiscarded {
				continue
			}
			job := jobFromRow(ev.Job)
			msg := ""
			if n := len(job.Errors); n > 0 {
				msg = job.Errors[n-1].Error
			}
			d.fn(ctx, job, msg)
		}
	}()
}

// wait returns once every event River delivered before stopping was
// handled, or when ctx ends.
func (d *discardWatcher) wait(ctx context.Context) {
	if d.cancel == nil {
		return
	}
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	d.cancel()
	d.cancel = nil
}

// StrandedJobs counts the running jobs whose process is gone: the client
// that made their last attempt holds no live heartbeat lease (it crashed,
// or was killed before Stop). RescueStranded makes them available again;
// River's own rescuer would wait Config.RescueStuckJobsAfter. Works on any
// Queue, insert-only ones included.
func (q *Queue) StrandedJobs(ctx context.Context) (int, error) {
	jobs, err := q.strandedJobs(ctx)
	return len(jobs), err
}

// RescueStranded makes every stranded job available to run again now and
// returns how many it rescued. A process's heartbeat lapses within
// Config.HeartbeatTTL of its death, so work a killed process held resumes
// within seconds, not after RescueStuckJobsAfter. Safe to run from several
// processes at once: a job is rescued only while it is still running.
// Each rescue is recorded in the job's errors, like River's own.
func (q *Queue) RescueStranded(ctx context.Context) (int, error) {
	jobs, err := q.strandedJobs(ctx)
	if err != nil || len(jobs) == 0 {
		return 0, err
	}
	if err := q.b.rescue(ctx, jobs, "rescued: the process running this job stopped heartbeating (crashed or killed)"); err != nil {
		return 0, fmt.Errorf("queue: rescuing stranded jobs: %w", err)
	}
	return len(jobs), nil
}

func (q *Queue) strandedJobs(ctx context.Context) ([]*rivertype.JobRow, error) {
	leases, err := q.st.ListProcessLeases(ctx, ProcessLeasePrefix)
	if err != nil {
		return nil, fmt.Errorf("queue: stranded jobs: %w", err)
	}
	live := make(map[string]bool, len(leases))
	for _, l := range leases {
		live[l.Key] = true
	}
	var out []*rivertype.JobRow
	params := river.NewJobListParams().States(JobStateRunning).First(1000)
	for {
		res, err := q.b.jobList(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("queue: stranded jobs: listing running jobs: %w", err)
		}
		for _, j := range res.Jobs {
			// A running job with no attempt recorded has no process to
			// vouch for it either.
			if len(j.AttemptedBy) == 0 || !live[processKey(j.AttemptedBy[len(j.AttemptedBy)-1])] {
				out = append(out, j)
			}
		}
		if len(res.Jobs) < 1000 || res.LastCursor == nil {
			return out, nil
		}
		params = params.After(res.LastCursor)
	}
}
