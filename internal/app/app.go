package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/notify"
	"github.com/accordhq/accord/internal/oauth"
	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/registration"
	"github.com/accordhq/accord/internal/retention"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/syncer"
	"github.com/accordhq/accord/internal/telemetry"
	"github.com/accordhq/accord/internal/uninstall"
	"github.com/accordhq/accord/internal/web"
	"github.com/accordhq/accord/internal/web/api"
	"github.com/accordhq/accord/internal/web/status"
	"github.com/accordhq/accord/internal/webhook"
)

// Options are what a caller other than `accord serve` (the demo, tests)
// may set beyond the process configuration.
type Options struct {
	Build telemetry.Build
	// Engine tunes the engine; nil takes its defaults.
	Engine *engine.Config
	// Queue overrides queue settings (Workers and MaxWorkers still follow
	// the configuration).
	Queue *queue.Config
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// OnEventFinal is engine.Deps.OnEventFinal (load tests).
	OnEventFinal func(ev store.Event, outcome string)
	// Syncer tunes the scheduled sync; nil takes its defaults.
	Syncer *syncer.Config
	// Status tunes the partner-status monitor (the banner, /api/v1/status
	// and the partner.degraded notifications); nil takes its defaults.
	Status *status.Config
}

// App is one running Accord process.
type App struct {
	cfg      *config.Config
	logger   *slog.Logger
	build    telemetry.Build
	Store    store.Store
	Queue    *queue.Queue
	Registry *prometheus.Registry
	Catalog  *engine.Catalog
	Vault    *credential.Vault
	Engine   *engine.Engine
	Ingress  *webhook.Ingress
	// Dispatcher is the in-process fast path from ingress to partners; nil
	// unless this process runs both the API and the workers.
	Dispatcher *engine.Dispatcher
	OAuth      *oauth.Manager
	alerter    *engine.Alerter
	// stopBackground ends what runs for the process's life outside Start
	// (River UI's caches); nil until set.
	stopBackground context.CancelFunc
	// Uninstaller runs uninstalls (internal/uninstall); Notifier sends
	// change notifications and REST hooks (internal/notify).
	Uninstaller *uninstall.Uninstaller
	Notifier    *notify.Notifier
	// Webhooks registers partner-side webhook subscriptions at install
	// and deletes them at uninstall (internal/registration).
	Webhooks *registration.Registrar
	// Syncer runs contracts' schedule triggers.
	Syncer *syncer.Syncer
	// Partners judges partners from this process's calls; partnerWatch
	// records its verdicts' transitions (where workers run: they make the
	// calls).
	Partners     *status.Monitor
	partnerWatch *status.Watcher
	notifySignal notify.Signal

	server    *http.Server
	listener  net.Listener
	addr      atomic.Pointer[string]
	serveErr  chan error
	tracing   func(context.Context) error
	stopDepth chan struct{}
	depthDone chan struct{}
	// workers is how many worker processes heartbeat (this one included),
	// sampled with the queue depth; rateShare divides partner rates by it.
	workers atomic.Int64
}

// New opens the store, migrates it (unless cfg.NoMigrate), loads the packs
// and builds the vault, engine, queue and HTTP surface. Nothing listens or
// works until Start.
func New(ctx context.Context, cfg *config.Config, logger *slog.Logger, opts *Options) (_ *App, err error) {
	if opts == nil {
		opts = &Options{}
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	a := &App{cfg: cfg, logger: logger, build: opts.Build, Registry: telemetry.NewRegistry(opts.Build)}
	defer func() {
		if err != nil {
			// Whatever was built (link writers, alert senders, tracing,
			// the store) stops with the error: a failed New leaks nothing.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_ = a.Stop(ctx)
		}
	}()
	if a.tracing, err = telemetry.SetupTracing(ctx, opts.Build); err != nil {
		return nil, err
	}
	if a.Store, err = OpenStore(ctx, cfg, logger); err != nil {
		return nil, err
	}
	// Changes the host is notified of write their deliveries in their own
	// transaction, whoever makes them (internal/notify).
	a.notifySignal = notify.NewSignal()
	a.Store = notify.Observe(a.Store, a.notifySignal, now)
	if a.Catalog, err = LoadCatalog(cfg.Packs); err != nil {
		return nil, err
	}
	logger.Info("packs loaded", "packs_dir", cfg.Packs, "providers", len(a.Catalog.Providers), "contracts", len(a.Catalog.Contracts))
	if cfg.AdminToken == "" {
		logger.Warn("the admin API is disabled: no admin_token is set, so every /api/v1 call is refused", "setting", "admin_token")
	}
	mk, retired, err := MasterKeys(cfg, logger)
	if err != nil {
		return nil, err
	}
	kms, err := credential.NewLocalKMS(mk, retired...)
	if err != nil {
		return nil, err
	}
	if a.Vault, err = credential.NewVault(a.Store, kms, &credential.Config{Logger: logger, Now: now}); err != nil {
		return nil, err
	}
	// The manifests' ${VAR} base URLs resolve the way the engine's do (the
	// demo and tests answer them without the process environment), so a
	// connection test reaches the partner the writes go to.
	lookupEnv := os.LookupEnv
	if opts.Engine != nil && opts.Engine.Connector != nil && opts.Engine.Connector.LookupEnv != nil {
		// What the engine's lookup does not answer (OAuth client ids and
		// secrets) still comes from the environment.
		engineLookup := opts.Engine.Connector.LookupEnv
		lookupEnv = func(k string) (string, bool) {
			if v, ok := engineLookup(k); ok {
				return v, true
			}
			return os.LookupEnv(k)
		}
	}
	if a.OAuth, err = newOAuthManager(cfg, logger, a, mk, now, lookupEnv); err != nil {
		return nil, err
	}
	creds := vaultCredentials{vault: a.Vault, oauth: a.OAuth}

	engCfg := engine.Config{}
	if opts.Engine != nil {
		engCfg = *opts.Engine
	}
	if engCfg.JobTimeout == 0 {
		engCfg.JobTimeout = min(5*time.Minute, cfg.JobRescueAfter)
	}
	if engCfg.SweepAfter == 0 {
		engCfg.SweepAfter = cfg.EventSweepAfter
	}
	if engCfg.Connector == nil {
		engCfg.Connector = &connector.Config{AllowLoopback: cfg.AllowLoopbackPartners}
	}
	// Each worker process takes its share of every tenant's partner rate,
	// so N workers together offer the manifest's rate, not N times it.
	cc := *engCfg.Connector
	lc := connector.LimiterConfig{}
	if cc.Limiter != nil {
		lc = *cc.Limiter
	}
	if lc.Share == nil {
		lc.Share = a.rateShare
	}
	cc.Limiter = &lc
	engCfg.Connector = &cc
	a.alerter = engine.NewAlerter(cfg.AlertWebhook, logger, a.Registry)
	a.Engine, err = engine.New(engine.Deps{
		Store: a.Store, Catalog: a.Catalog, Credentials: creds,
		Alerter: a.alerter,
		Logger:  logger, Registerer: a.Registry, Now: now, OnEventFinal: opts.OnEventFinal,
	}, &engCfg)
	if err != nil {
		return nil, err
	}
	reg := queue.NewRegistry()
	if err := a.Engine.Register(reg); err != nil {
		return nil, err
	}
	a.Syncer = syncer.New(syncer.Deps{Store: a.Store, Catalog: a.Catalog, Credentials: creds, Connector: a.Engine.Connector,
		Revert: a.Engine.RevertDrift, ReadRefused: a.Engine.ReadRefused, Alerter: a.alerter, Logger: logger, Registerer: a.Registry, Now: now}, opts.Syncer)
	if err := a.Syncer.Register(reg); err != nil {
		return nil, err
	}
	if err := a.OAuth.Register(reg); err != nil {
		return nil, err
	}
	if err := retention.Register(reg, a.Store, &retention.Config{EventRetention: cfg.EventRetention, Logger: logger, Now: now}); err != nil {
		return nil, err
	}
	if err := a.newLifecycle(cfg, reg, logger, now); err != nil {
		return nil, err
	}
	qcfg := queue.Config{}
	if opts.Queue != nil {
		qcfg = *opts.Queue
	}
	// River's own rescue is the backstop; a killed process's jobs are
	// rescued within seconds through the heartbeat (RescueStranded).
	qcfg.RescueStuckJobsAfter = cfg.JobRescueAfter
	if qcfg.JobTimeout == 0 {
		qcfg.JobTimeout = min(queue.DefaultJobTimeout, cfg.JobRescueAfter)
	}
	qcfg.OnDiscard = a.Engine.JobDiscarded
	qcfg.Workers = cfg.RunsWorkers()
	qcfg.MaxWorkers = cfg.Workers
	qcfg.Logger = logger
	if a.Queue, err = queue.New(a.Store, reg, &qcfg); err != nil {
		return nil, fmt.Errorf("building queue: %w", err)
	}
	a.Engine.UseQueue(a.Queue)
	a.Syncer.UseQueue(a.Queue)
	if !cfg.NoMigrate {
		if err := a.Migrate(ctx); err != nil {
			return nil, err
		}
	}
	// After migrating (the data key table must exist), before serving.
	if err := CheckMasterKeys(ctx, cfg, a.Vault); err != nil {
		return nil, err
	}

	// Every role serves /healthz, /readyz and /metrics on its address: a
	// worker's delivery metrics must be scrapeable where they are made.
	// The API, webhooks and connect pages only where the role runs them.
	routes := map[string]http.Handler{}
	a.Partners = status.NewMonitor(a.Registry, opts.Status)
	if cfg.RunsWorkers() {
		a.partnerWatch = status.NewWatcher(a.Partners, a.Store, &status.WatcherConfig{Logger: logger})
	}
	if cfg.RunsAPI() {
		var dispatch func([]store.Event)
		if cfg.RunsWorkers() {
			a.Dispatcher = a.Engine.NewDispatcher(nil)
			dispatch = a.Dispatcher.Dispatch
			a.Syncer.UseDispatcher(a.Dispatcher)
		}
		a.Ingress, err = webhook.NewIngress(webhook.Deps{
			Store: a.Store, Queue: a.Queue,
			Providers: func(name string) (*spec.Provider, bool) { p, ok := a.Catalog.Providers[name]; return p, ok },
			Secrets:   creds,
			NewJob:    engine.NewEventJob,
			Dispatch:  dispatch,
			Logger:    logger, Registerer: a.Registry, Now: now,
		}, &webhook.Config{MaxBytesInFlight: int64(cfg.WebhookMaxBytesInFlight), MaxConcurrentPerConnection: cfg.WebhookMaxConcurrentPerConnection, CommitTimeout: cfg.WebhookCommitTimeout})
		if err != nil {
			return nil, fmt.Errorf("building webhook ingress: %w", err)
		}
		signer, err := uiSigner(mk)
		if err != nil {
			return nil, err
		}
		partners := a.Partners
		admin := api.New(api.Deps{Store: a.Store, Queue: a.Queue, Vault: a.Vault, Logger: logger,
			Providers: a.Catalog.Providers, Contracts: a.Catalog.Contracts, Versions: a.Catalog.Versions,
			CompareVersions: engine.CompareVersions, Token: cfg.AdminToken, Signer: signer, PublicURL: cfg.PublicURL,
			Status: partners, Extra: api.ConnectRoutesWith(a.OAuth, a.Webhooks), OnConnectionResumed: a.resumeConnection,
			OnConnectionChanged: func(_ context.Context, c store.Connection) {
				a.Ingress.Forget(c.ID)
				a.Engine.ForgetConnection(c.TenantID, c.ID)
			},
			Uninstaller: a.Uninstaller, Webhooks: a.Webhooks, Notifier: a.Notifier, Syncer: syncNow{a.Syncer},
			Rollout: packRollouts(cfg.Packs), EventRetention: cfg.EventRetention})
		for pattern, h := range admin.Routes() {
			routes[pattern] = h
		}
		if err := a.mountUI(cfg, logger, admin, signer, partners, routes); err != nil {
			return nil, err
		}
		routes[webhook.Pattern] = a.Ingress
		routes["/connect/"] = a.OAuth.Handler()
	}
	a.server = &http.Server{
		Handler: web.NewHandler(&web.Config{
			Logger:   logger,
			Registry: a.Registry,
			Ready: []web.Check{
				{Name: "database", Fn: a.Store.Ping},
				{Name: "queue", Fn: a.Queue.Ping},
			},
			Routes: routes,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return a, nil
}

// Migrate applies Accord's and the queue's migrations.
func (a *App) Migrate(ctx context.Context) error { return migrate(ctx, a.Store, a.Queue) }

// Migrate applies Accord's and the queue's migrations to the database cfg
// names and nothing else: no packs, no master key, no workers.
func Migrate(ctx context.Context, cfg *config.Config, logger *slog.Logger) error {
	st, err := OpenStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	q, err := queue.New(st, queue.NewRegistry(), &queue.Config{Logger: logger})
	if err != nil {
		return fmt.Errorf("building queue: %w", err)
	}
	return migrate(ctx, st, q)
}

func migrate(ctx context.Context, st store.Store, q *queue.Queue) error {
	if err := st.Migrate(ctx); err != nil {
		return fmt.Errorf("migrating store: %w", err)
	}
	if err := q.Migrate(ctx); err != nil {
		return fmt.Errorf("migrating queue: %w", err)
	}
	return nil
}

// Start listens on cfg.Addr (api role) and starts the workers (worker role).
func (a *App) Start(ctx context.Context) error {
	if a.server != nil {
		ln, err := net.Listen("tcp", a.cfg.Addr)
		if err != nil {
			return fmt.Errorf("listening on %s: %w", a.cfg.Addr, err)
		}
		a.listener = ln
		addr := ln.Addr().String()
		a.addr.Store(&addr)
		a.serveErr = make(chan error, 1)
		go func() { a.serveErr <- a.server.Serve(ln) }()
	}
	if err := a.Queue.Start(ctx); err != nil {
		return fmt.Errorf("starting queue: %w", err)
	}
	if err := a.Notifier.Start(ctx); err != nil {
		return fmt.Errorf("starting notifications: %w", err)
	}
	if a.partnerWatch != nil {
		if err := a.partnerWatch.Start(ctx); err != nil {
			return fmt.Errorf("starting the partner-status watcher: %w", err)
		}
	}
	a.startDepthGauge()
	a.logger.InfoContext(ctx, "accord started", "addr", a.Addr(), "role", a.cfg.Role,
		"db", a.cfg.Describe()["db"], "version", a.build.Version,
		"providers", len(a.Catalog.Providers), "contracts", len(a.Catalog.Contracts))
	return nil
}

// rateShare is this process's share of a partner's rate limit.
func (a *App) rateShare() float64 {
	if n := a.workers.Load(); n > 1 {
		return 1 / float64(n)
	}
	return 1
}

// startDepthGauge samples the queue depth for accord_queue_depth and the
// jobs a dead process left running for accord_queue_stranded_jobs — gauges
// refreshed every few seconds rather than a query per scrape, so a scrape
// storm cannot load the database — and rescues those stranded jobs, so a
// killed process's work resumes within seconds of its heartbeat lapsing.
func (a *App) startDepthGauge() {
	depth := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "accord_queue_depth",
		Help: "Jobs waiting to run (available, scheduled or retryable), sampled every 5s.",
	})
	stranded := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "accord_queue_stranded_jobs",
		Help: "Jobs left running by a process that stopped heartbeating (crashed or killed), sampled every 5s before they are rescued.",
	})
	rescued := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "accord_queue_rescued_jobs_total",
		Help: "Jobs a dead process left running that were made available again.",
	})
	if err := a.Registry.Register(depth); err != nil {
		return
	}
	_ = a.Registry.Register(stranded)
	_ = a.Registry.Register(rescued)
	a.stopDepth, a.depthDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(a.depthDone)
		// Each second: Retry-After holds other processes learned (a hold
		// is often only a few seconds long). Every fifth: the rest.
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for tick := 0; ; tick++ {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			if a.cfg.RunsWorkers() {
				_, _ = a.Engine.ApplyPartnerHolds(ctx)
			}
			if tick%5 != 0 {
				cancel()
				select {
				case <-a.stopDepth:
					return
				case <-t.C:
				}
				continue
			}
			if n, err := a.Queue.Depth(ctx); err == nil {
				depth.Set(float64(n))
			}
			if leases, err := a.Store.ListProcessLeases(ctx, queue.ProcessLeasePrefix); err == nil {
				a.workers.Store(int64(len(leases)))
			}
			if n, err := a.Queue.StrandedJobs(ctx); err == nil {
				stranded.Set(float64(n))
				if n > 0 && a.cfg.RunsWorkers() {
					if r, err := a.Queue.RescueStranded(ctx); err != nil {
						a.logger.WarnContext(ctx, "rescuing jobs a dead process left running", "err", err)
					} else if r > 0 {
						rescued.Add(float64(r))
						a.logger.WarnContext(ctx, "rescued jobs a dead process left running", "jobs", r)
					}
				}
			}
			cancel()
			select {
			case <-a.stopDepth:
				return
			case <-t.C:
			}
		}
	}()
}

// Addr is the address the HTTP server listens on ("" for a worker).
// It is safe to call from another goroutine while Start runs.
func (a *App) Addr() string {
	if p := a.addr.Load(); p != nil {
		return *p
	}
	return ""
}

// Run starts the process and blocks until ctx is cancelled (a signal) or the
// HTTP server fails, then stops gracefully.
func (a *App) Run(ctx context.Context) error {
	if err := a.Start(ctx); err != nil {
		a.Stop(context.Background())
		return err
	}
	var runErr error
	select {
	case <-ctx.Done():
		a.logger.Info("shutting down", "timeout", a.cfg.ShutdownTimeout.String())
	case runErr = <-a.serveErr:
		a.logger.Error("http server failed", "err", runErr)
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := a.Stop(stopCtx); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// Stop stops accepting requests, commits what ingress accepted, lets
// in-flight jobs finish (bounded by ctx), then closes the store.
func (a *App) Stop(ctx context.Context) error {
	var errs []error
	if a.server != nil && a.listener != nil {
		if err := a.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping http: %w", err))
		}
	}
	if a.Ingress != nil {
		a.Ingress.Close()
	}
	if a.Dispatcher != nil {
		// In-flight deliveries finish within ctx; the backlog and what ctx
		// cut short stay pending and the sweeper queues them.
		a.Dispatcher.Close(ctx)
	}
	if a.stopDepth != nil {
		close(a.stopDepth)
		<-a.depthDone
		a.stopDepth = nil
	}
	if a.partnerWatch != nil {
		a.partnerWatch.Stop()
	}
	if a.Notifier != nil {
		a.Notifier.Stop()
	}
	if a.Queue != nil {
		if err := a.Queue.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping queue: %w", err))
		}
	}
	if a.Engine != nil {
		a.Engine.Close()
	}
	if a.Store != nil {
		// Object leases this process still holds (jobs cut short) free
		// their objects now instead of after their TTL.
		if _, err := a.Store.ReleaseLeasesHeldBy(ctx, engine.HolderID()); err != nil {
			a.logger.WarnContext(ctx, "releasing object leases", "err", err)
		}
	}
	if a.alerter != nil {
		a.alerter.Close()
	}
	if a.stopBackground != nil {
		a.stopBackground()
	}
	if a.tracing != nil {
		if err := a.tracing(ctx); err != nil {
			errs = append(errs, fmt.Errorf("flushing traces: %w", err))
		}
	}
	if a.Store != nil {
		if err := a.Store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing store: %w", err))
		}
	}
	if len(errs) == 0 {
		a.logger.Info("accord stopped")
	}
	return errors.Join(errs...)
}

// syncNow is the syncer as the API sees it.
type syncNow struct{ s *syncer.Syncer }

func (n syncNow) TestRecord(ctx context.Context, tenantID, installationID, trigger, objectID string) (any, error) {
	res, err := n.s.TestRecord(ctx, tenantID, installationID, trigger, objectID)
	if errors.Is(err, syncer.ErrUnknownTrigger) || errors.Is(err, syncer.ErrNoGet) {
		return nil, fmt.Errorf("%w: %v", api.ErrBadTest, err)
	}
	return res, err
}

func (n syncNow) ReconcileNow(ctx context.Context, tenantID, installationID string) error {
	return n.s.ReconcileNow(ctx, tenantID, installationID)
}

func (n syncNow) RunNow(ctx context.Context, tenantID, installationID string) ([]string, error) {
	names, err := n.s.RunNow(ctx, tenantID, installationID)
	if errors.Is(err, syncer.ErrNoSchedule) {
		return nil, api.ErrNoSchedule
	}
	return names, err
}
