package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/store"
)

// Kind is the job kind of the retention sweep.
const Kind = "accord_retention"

// Defaults.
const (
	DefaultEventRetention = 7 * 24 * time.Hour
	DefaultInterval       = time.Hour
	DefaultBatchSize      = 500
)

// Config configures the sweep. A nil *Config means all defaults.
type Config struct {
	// EventRetention is how long a done event is kept after it was
	// received. Pending and queued events are never deleted. Default 7
	// days.
	EventRetention time.Duration
	// Interval is how often the sweep runs. Default 1h.
	Interval time.Duration
	// BatchSize is how many events one delete statement removes: each
	// batch is its own short transaction, so the SQLite writer is never
	// held for long. Default 500.
	BatchSize int
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives the counts of each sweep. Default slog.Default().
	Logger *slog.Logger
}

func (c *Config) withDefaults() Config {
	var out Config
	if c != nil {
		out = *c
	}
	if out.EventRetention == 0 {
		out.EventRetention = DefaultEventRetention
	}
	if out.Interval == 0 {
		out.Interval = DefaultInterval
	}
	if out.BatchSize == 0 {
		out.BatchSize = DefaultBatchSize
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.Logger == nil {
		out.Logger = slog.Default()
	}
	return out
}

func (c *Config) validate() error {
	var errs []error
	if c.EventRetention < 0 {
		errs = append(errs, fmt.Errorf("EventRetention must not be negative, got %s", c.EventRetention))
	}
	if c.Interval < 0 {
		errs = append(errs, fmt.Errorf("Interval must not be negative, got %s", c.Interval))
	}
	if c.BatchSize < 1 {
		errs = append(errs, fmt.Errorf("BatchSize must be at least 1, got %d", c.BatchSize))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("retention: config: %w", err)
	}
	return nil
}

// Args are the sweep job's arguments: none, the Config says it all.
type Args struct{}

// Kind returns Kind.
func (Args) Kind() string { return Kind }

// Result counts what one sweep deleted.
type Result struct {
	Events      int
	OAuthStates int
	Leases      int
}

// Worker runs the sweep as a River job.
type Worker struct {
	river.WorkerDefaults[Args]
	st  store.Store
	cfg Config
}

// NewWorker returns a Worker over st.
func NewWorker(st store.Store, cfg *Config) (*Worker, error) {
	if st == nil {
		return nil, errors.New("retention: NewWorker: store is required")
	}
	c := cfg.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &Worker{st: st, cfg: c}, nil
}

// Register adds the sweep to reg: its worker and a periodic job every
// cfg.Interval (run also at start-up), unique per interval so that a
// leader change never runs two sweeps of one period.
func Register(reg *queue.Registry, st store.Store, cfg *Config) error {
	w, err := NewWorker(st, cfg)
	if err != nil {
		return err
	}
	if err := queue.AddWorker(reg, river.Worker[Args](w)); err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	interval := w.cfg.Interval
	err = reg.AddPeriodic(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return Args{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: interval}}
	}, &river.PeriodicJobOpts{ID: Kind, RunOnStart: true})
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	return nil
}

// Work runs one sweep.
func (w *Worker) Work(ctx context.Context, _ *river.Job[Args]) error {
	_, err := w.Sweep(ctx)
	return err
}

// Sweep deletes done events received before now - EventRetention (batch
// by batch, until none is left or ctx ends), expired OAuth states and
// expired leases, logs the counts and returns them. On an error the counts
// so far are returned with it; the next sweep carries on.
func (w *Worker) Sweep(ctx context.Context) (Result, error) {
	var res Result
	now := w.cfg.Now()
	cutoff := now.Add(-w.cfg.EventRetention)
	for {
		n, err := w.st.DeleteDoneEventsBefore(ctx, cutoff, w.cfg.BatchSize)
		res.Events += n
		if err != nil {
			return res, fmt.Errorf("retention: events: %w", err)
		}
		if n < w.cfg.BatchSize {
			break
		}
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("retention: events: %w", err)
		}
	}
	n, err := w.st.DeleteExpiredOAuthStates(ctx, now)
	res.OAuthStates = n
	if err != nil {
		return res, fmt.Errorf("retention: oauth states: %w", err)
	}
	n, err = w.st.DeleteExpiredLeases(ctx, now)
	res.Leases = n
	if err != nil {
		return res, fmt.Errorf("retention: leases: %w", err)
	}
	w.cfg.Logger.InfoContext(ctx, "retention sweep done", "events_deleted", res.Events,
		"oauth_states_deleted", res.OAuthStates, "leases_deleted", res.Leases, "events_before", cutoff)
	return res, nil
}
