package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Defaults. River's own (100 workers, 100 ms cooldown, 1 s poll) cap a
// process near 1,000 jobs/s with ~55 ms pickup; these were measured on a
// 2-core machine to reach ~2.5k jobs/s on SQLite and ~9k on PostgreSQL
// (see DESIGN.md, "Job queue").
const (
	DefaultMaxWorkers        = 1000
	DefaultFetchCooldown     = 10 * time.Millisecond
	DefaultFetchPollInterval = 100 * time.Millisecond
	DefaultMaxAttempts       = river.MaxAttemptsDefault
	DefaultJobTimeout        = time.Minute
	DefaultStopCancelTimeout = 10 * time.Second
	// DefaultRescueMargin is added to JobTimeout for the default
	// RescueStuckJobsAfter: a job still running that long after its
	// context was cancelled is taken for one whose process died.
	DefaultRescueMargin = 30 * time.Second
	// DefaultHeartbeatInterval and DefaultHeartbeatTTL: a worker process
	// renews its liveness lease every 5 s for 15 s, so two missed beats
	// still count as alive and a dead process shows within 15 s.
	DefaultHeartbeatInterval = 5 * time.Second
	DefaultHeartbeatTTL      = 15 * time.Second
)

// QueueDefault is the queue jobs go to unless their InsertOpts name another.
const QueueDefault = river.QueueDefault

// Config configures a Queue. The zero value is valid: an insert-only
// client with the defaults below.
type Config struct {
	// Workers makes this process work jobs. False (the default) builds an
	// insert-only client for an api-only process: Insert works, Start and
	// Stop do nothing, and no job is ever worked here.
	Workers bool

	// MaxWorkers is how many jobs of each queue this process runs at once,
	// for queues whose QueueConfig does not say. Default 1000.
	MaxWorkers int

	// FetchCooldown is the least time between two fetches of a queue; it
	// bounds throughput. Default 10 ms.
	FetchCooldown time.Duration

	// FetchPollInterval is the most time between two fetches when no insert
	// notification arrives. Default 100 ms. (On SQLite River also polls its
	// notification table every 50 ms, which sets the pickup latency floor.)
	FetchPollInterval time.Duration

	// Queues lists the queues this process works. Default: QueueDefault
	// alone, with MaxWorkers.
	Queues map[string]QueueConfig

	// MaxAttempts is how often a job runs before it is discarded, unless
	// its args or InsertOpts say otherwise. Snoozes do not count.
	// Default 25.
	MaxAttempts int

	// RetryPolicy schedules the next attempt of a failed job. Default
	// &Backoff{} (exponential from 1 s, jittered, capped at 1 h).
	RetryPolicy river.ClientRetryPolicy

	// JobTimeout cancels a job's context after this long. -1 disables it.
	// Default 1 minute.
	JobTimeout time.Duration

	// StopCancelTimeout is how long Stop waits, after its own context ran
	// out and running jobs were cancelled, for those jobs to return.
	// Default 10 s.
	StopCancelTimeout time.Duration

	// Schema is the PostgreSQL schema holding River's tables. Default
	// empty: the connection's search_path. Ignored on SQLite.
	Schema string

	// ID identifies this client in job attempts and leader election; it
	// must be unique among running processes. Default: host name and start
	// time, from River.
	ID string

	// Hooks and Middleware are passed to River as they are (tracing,
	// metrics). Default none.
	Hooks      []rivertype.Hook
	Middleware []rivertype.Middleware

	// RescueStuckJobsAfter is how long a job may stay running before
	// River's rescuer presumes its process dead and schedules it again.
	// Must not be shorter than JobTimeout. Default: JobTimeout plus
	// DefaultRescueMargin (1m30s with the default JobTimeout), so the job
	// of a crashed process runs again within about two job timeouts
	// rather than River's hour; River's 1h when JobTimeout is -1. A worker
	// whose Timeout is longer than JobTimeout needs it set above that.
	RescueStuckJobsAfter time.Duration

	// OnDiscard, when set, is called once for each job this process ran
	// for its last allowed attempt and River then discarded, after the
	// discard is recorded, with the job and its last error. It runs on one
	// goroutine per Queue: keep it short. A job discarded elsewhere (the
	// rescuer, an operator) does not call it. Default none.
	OnDiscard func(ctx context.Context, job Job, err string)

	// HeartbeatInterval and HeartbeatTTL: a worker process holds the
	// process lease "queue-process:<ID>" while it runs, renewed every
	// HeartbeatInterval for HeartbeatTTL, and releases it on Stop.
	// StrandedJobs counts the running jobs whose process has no live
	// lease. Defaults 5s and 15s; the TTL must exceed the interval.
	HeartbeatInterval time.Duration
	HeartbeatTTL      time.Duration

	// Logger receives River's logs. Default slog.Default().
	Logger *slog.Logger

	// testOnly turns off River's staggered start of maintenance services,
	// which only slows tests down.
	testOnly bool
}

// QueueConfig configures one named queue.
type QueueConfig struct {
	// MaxWorkers is how many of this queue's jobs run at once in this
	// process. Default: Config.MaxWorkers.
	MaxWorkers int
}

// withDefaults returns a copy of c with every zero field set to its
// default; c itself is never changed.
func (c *Config) withDefaults() *Config {
	var out Config
	if c != nil {
		out = *c
	}
	if out.MaxWorkers == 0 {
		out.MaxWorkers = DefaultMaxWorkers
	}
	if out.FetchCooldown == 0 {
		out.FetchCooldown = DefaultFetchCooldown
	}
	if out.FetchPollInterval == 0 {
		out.FetchPollInterval = DefaultFetchPollInterval
	}
	if len(out.Queues) == 0 {
		out.Queues = map[string]QueueConfig{QueueDefault: {}}
	}
	queues := maps.Clone(out.Queues)
	for name, qc := range queues {
		if qc.MaxWorkers == 0 {
			qc.MaxWorkers = out.MaxWorkers
			queues[name] = qc
		}
	}
	out.Queues = queues
	if out.MaxAttempts == 0 {
		out.MaxAttempts = DefaultMaxAttempts
	}
	if out.RetryPolicy == nil {
		out.RetryPolicy = &Backoff{}
	}
	if out.JobTimeout == 0 {
		out.JobTimeout = DefaultJobTimeout
	}
	if out.StopCancelTimeout == 0 {
		out.StopCancelTimeout = DefaultStopCancelTimeout
	}
	if out.RescueStuckJobsAfter == 0 && out.JobTimeout > 0 {
		out.RescueStuckJobsAfter = out.JobTimeout + DefaultRescueMargin
	}
	if out.HeartbeatInterval == 0 {
		out.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if out.HeartbeatTTL == 0 {
		out.HeartbeatTTL = max(DefaultHeartbeatTTL, 3*out.HeartbeatInterval)
	}
	if out.Logger == nil {
		out.Logger = slog.Default()
	}
	return &out
}

// validate checks what River would otherwise reject with a less precise
// message, or not at all.
func (c *Config) validate() error {
	var errs []error
	if c.MaxWorkers < 1 {
		errs = append(errs, fmt.Errorf("MaxWorkers must be at least 1, got %d", c.MaxWorkers))
	}
	if c.FetchPollInterval < c.FetchCooldown {
		errs = append(errs, fmt.Errorf("FetchPollInterval (%s) must not be shorter than FetchCooldown (%s)", c.FetchPollInterval, c.FetchCooldown))
	}
	for name, qc := range c.Queues {
		if qc.MaxWorkers < 1 {
			errs = append(errs, fmt.Errorf("queue %q: MaxWorkers must be at least 1, got %d", name, qc.MaxWorkers))
		}
	}
	if c.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("MaxAttempts must be at least 1, got %d", c.MaxAttempts))
	}
	if c.JobTimeout < -1 {
		errs = append(errs, fmt.Errorf("JobTimeout must be positive or -1, got %s", c.JobTimeout))
	}
	if c.RescueStuckJobsAfter < 0 {
		errs = append(errs, fmt.Errorf("RescueStuckJobsAfter must not be negative, got %s", c.RescueStuckJobsAfter))
	}
	if c.JobTimeout > 0 && c.RescueStuckJobsAfter > 0 && c.RescueStuckJobsAfter < c.JobTimeout {
		errs = append(errs, fmt.Errorf("RescueStuckJobsAfter (%s) must not be shorter than JobTimeout (%s): running jobs would be rescued and run twice",
			c.RescueStuckJobsAfter, c.JobTimeout))
	}
	if c.HeartbeatInterval <= 0 || c.HeartbeatTTL <= c.HeartbeatInterval {
		errs = append(errs, fmt.Errorf("HeartbeatTTL (%s) must exceed HeartbeatInterval (%s), both positive",
			c.HeartbeatTTL, c.HeartbeatInterval))
	}
	if c.StopCancelTimeout < 0 {
		errs = append(errs, fmt.Errorf("StopCancelTimeout must not be negative, got %s", c.StopCancelTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("queue: config: %w", err)
	}
	return nil
}

// riverConfig translates c (with defaults applied) for River.
func (c *Config) riverConfig(reg *Registry) (*river.Config, error) {
	workers, err := reg.workers()
	if err != nil {
		return nil, err
	}
	rc := &river.Config{
		RescueStuckJobsAfter: c.RescueStuckJobsAfter,
		FetchCooldown:        c.FetchCooldown,
		FetchPollInterval:    c.FetchPollInterval,
		Hooks:                c.Hooks,
		ID:                   c.ID,
		JobTimeout:           c.JobTimeout,
		Logger:               c.Logger,
		MaxAttempts:          c.MaxAttempts,
		Middleware:           c.Middleware,
		RetryPolicy:          c.RetryPolicy,
		Schema:               c.Schema,
		TestOnly:             c.testOnly,
		// Given even to an insert-only client: River then rejects the
		// insert of a kind nobody registered, a bug caught at the caller.
		Workers: workers,
	}
	if c.Workers {
		rc.Queues = make(map[string]river.QueueConfig, len(c.Queues))
		for name, qc := range c.Queues {
			rc.Queues[name] = river.QueueConfig{MaxWorkers: qc.MaxWorkers}
		}
		rc.PeriodicJobs = reg.periodicJobs()
	}
	return rc, nil
}
