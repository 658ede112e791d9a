package engine

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// Credentials turns a connection into request authorisation. It is the seam
// to the credential vault and the OAuth token sources.
type Credentials interface {
	// Authorizer returns what authenticates requests to p for conn. An
	// authorizer whose credential can be renewed implements
	// connector.Refresher: the connector refreshes once on a 401.
	Authorizer(ctx context.Context, conn store.Connection, p *spec.Provider) (connector.Authorizer, error)
}

// Deps are the engine's collaborators.
type Deps struct {
	Store       store.Store
	Catalog     *Catalog
	Credentials Credentials
	Alerter     *Alerter
	Logger      *slog.Logger
	Registerer  prometheus.Registerer
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// OnEventFinal, when set, is called once an event's delivery is final:
	// every matching action's partner write has been answered and its link
	// committed (or its record error filed). Load tests time the whole
	// effect with it. It runs on the delivering goroutine: keep it cheap.
	OnEventFinal func(ev store.Event, outcome string)
}

// Config tunes the engine. Zero values take the documented defaults.
type Config struct {
	// PauseInterval is how long a job whose connection is paused
	// (needs_reconnect, missing_scopes) waits before looking again.
	// Default 30s.
	PauseInterval time.Duration
	// LockWait bounds how long a job waits for another job working on the
	// same object before snoozing. Default 5s.
	LockWait time.Duration
	// JobTimeout bounds one delivery job: partner calls have their own
	// timeouts, this catches the pathological rest. River will not rescue
	// a job whose process died (SIGKILL, power loss) before this has passed
	// since it started, so keep it at or under the queue's
	// RescueStuckJobsAfter. Default 5m.
	JobTimeout time.Duration
	// Connector configures the partner HTTP clients.
	Connector *connector.Config
	// CacheTTL is how long connections and installations read for events
	// are reused. Default 2s.
	CacheTTL time.Duration
	// SweepAfter is how long an event may stay pending (accepted, not yet
	// delivered or queued) before the sweeper queues it. Default 30s.
	SweepAfter time.Duration
	// MaxAnswerWindow is how long after a write whose answer never came a
	// partner may still apply it: a create is not sent again before it has
	// passed, and the settlement job then re-sends the newest state.
	// Default 2m.
	MaxAnswerWindow time.Duration
	// LinkCommitters is how many goroutines group-commit link writes.
	// Default 1 on SQLite (one writer), 4 on PostgreSQL.
	LinkCommitters int
}

// Engine applies events to partners.
type Engine struct {
	deps       Deps
	cfg        Config
	rt         *runtime
	locks      *objectLocks
	versions   *objectVersions
	connectors map[string]*connector.Connector
	metrics    *metrics
	cache      *lookupCache
	links      *linkWriter
	// jobs queues hand-offs and sweeps; set by UseQueue once the queue
	// exists (the queue is built after the engine registers its workers).
	jobs JobInserter
}

// New builds the engine's connectors for every provider in the catalog.
func New(deps Deps, cfg *Config) (*Engine, error) {
	c := Config{}
	if cfg != nil {
		c = *cfg
	}
	if c.PauseInterval <= 0 {
		c.PauseInterval = 30 * time.Second
	}
	if c.LockWait <= 0 {
		c.LockWait = 5 * time.Second
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = 5 * time.Minute
	}
	if c.CacheTTL <= 0 {
		c.CacheTTL = 2 * time.Second
	}
	if c.SweepAfter <= 0 {
		c.SweepAfter = 30 * time.Second
	}
	if c.MaxAnswerWindow <= 0 {
		c.MaxAnswerWindow = 2 * time.Minute
	}
	if c.LinkCommitters <= 0 {
		c.LinkCommitters = 1
		if deps.Store.Dialect() == store.DialectPostgres {
			c.LinkCommitters = 4
		}
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Alerter == nil {
		deps.Alerter = NewAlerter("", deps.Logger, nil)
	}
	e := &Engine{
		deps:       deps,
		cfg:        c,
		rt:         newRuntime(deps.Catalog),
		locks:      newObjectLocks(),
		versions:   newObjectVersions(),
		connectors: map[string]*connector.Connector{},
		metrics:    newMetrics(deps.Registerer),
		cache:      newLookupCache(deps.Store, deps.Now, c.CacheTTL),
		links:      newLinkWriter(deps.Store, c.LinkCommitters),
	}
	cc := connector.Config{}
	if c.Connector != nil {
		cc = *c.Connector
	}
	if cc.Registerer == nil {
		cc.Registerer = deps.Registerer
	}
	if cc.Now == nil {
		cc.Now = deps.Now
	}
	if cc.Logger == nil {
		cc.Logger = deps.Logger
	}
	for name, p := range deps.Catalog.Providers {
		cn, err := connector.New(p, &cc)
		if err != nil {
			return nil, fmt.Errorf("engine: connector for %s: %w", name, err)
		}
		e.connectors[name] = cn
	}
	return e, nil
}

// Register adds the engine's job kinds to the queue registry, and the
// periodic sweep of events the fast path left pending.
func (e *Engine) Register(reg *queue.Registry) error {
	if err := queue.AddWorker(reg, &deliverWorker{engine: e}); err != nil {
		return err
	}
	if err := queue.AddWorker(reg, &sweepWorker{e: e}); err != nil {
		return err
	}
	if err := queue.AddWorker(reg, &settleWorker{e: e}); err != nil {
		return err
	}
	if err := reg.AddPeriodic(river.PeriodicInterval(settleInterval),
		func() (river.JobArgs, *river.InsertOpts) { return SettleArgs{}, nil },
		&river.PeriodicJobOpts{ID: KindSettle, RunOnStart: true}); err != nil {
		return err
	}
	return reg.AddPeriodic(river.PeriodicInterval(sweepInterval),
		func() (river.JobArgs, *river.InsertOpts) { return SweepArgs{}, nil },
		&river.PeriodicJobOpts{ID: KindSweep, RunOnStart: true})
}

// Connector returns the connector of a provider (nil when unknown): the
// syncer reads through it, sharing its rate limiter with the writes.
func (e *Engine) Connector(provider string) *connector.Connector { return e.connectors[provider] }

// UseQueue gives the engine the queue it hands work to.
func (e *Engine) UseQueue(q JobInserter) { e.jobs = q }

// Close stops the engine's background writers; call it after the queue
// and any Dispatcher have stopped.
func (e *Engine) Close() { e.links.close() }

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	engine *Engine
}

// Timeout bounds one delivery (Config.JobTimeout).
func (w *deliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration {
	return w.engine.cfg.JobTimeout
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	outcome, err := w.engine.deliver(ctx, job.Args)
	if outcome != "" {
		// The event's final outcome, for the API and operators; the job's
		// own completion is what guarantees it is not delivered again.
		_ = w.engine.deps.Store.SetEventsState(ctx, []store.EventRef{{TenantID: job.Args.TenantID, ID: job.Args.EventID, Outcome: outcome}}, store.EventDone)
	}
	return err
}
