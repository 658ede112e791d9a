package syncer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/robfig/cron/v3"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/privacy"
	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// ErrNoSchedule is returned by RunNow for an installation whose contract
// has no schedule trigger.
var ErrNoSchedule = errors.New("syncer: the contract has no schedule trigger")

// Deps are the syncer's collaborators; the engine supplies the connectors
// and the credentials it writes with.
type Deps struct {
	Store       store.Store
	Catalog     *engine.Catalog
	Credentials engine.Credentials
	// Connector returns the engine's connector for a provider (its rate
	// limiter is shared with the writes).
	Connector func(provider string) *connector.Connector
	// ReadRefused pauses the connection when the partner refuses a read
	// (engine.ReadRefused) and reports whether it did; nil: such a page
	// is retried like any failure.
	ReadRefused func(ctx context.Context, inst store.Installation, conn store.Connection, p *spec.Provider, object string, err error) bool
	// Revert marks a drifted link to be written back (engine.RevertDrift);
	// nil: reconciliation only reports.
	Revert func(ctx context.Context, key store.LinkKey, doc map[string]any, p *spec.Provider) error
	// Alerter raises the delete guard's alert (nil: logged only).
	Alerter    *engine.Alerter
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Dispatcher is the engine's in-process fast path (*engine.Dispatcher):
// events handed to it are delivered by this process's workers without a
// job each; those it cannot take stay pending for the sweeper.
type Dispatcher interface {
	Dispatch(events []store.Event)
	// Backlog is how many dispatched events wait for a worker, and how
	// many may.
	Backlog() (waiting, capacity int)
}

var _ Dispatcher = (*engine.Dispatcher)(nil)

// Config tunes the syncer. Zero values take the defaults.
type Config struct {
	// PlanInterval is how often the leader looks for due runs. Default 5s.
	PlanInterval time.Duration
	// ProgressEvery is how often a long run logs its progress. Default 5s.
	ProgressEvery time.Duration
	// PageLimit is the page size asked for when the manifest sets none.
	PageLimit int
}

// Syncer runs contracts' schedule triggers: per installation and trigger,
// it lists the objects changed since the last run and stores each change
// as an event that the engine applies through the same per-record path as
// a webhook (order, versions, links, outcomes, record errors).
type Syncer struct {
	deps    Deps
	cfg     Config
	jobs    engine.JobInserter
	fast    Dispatcher
	metrics *metrics
}

// New returns a syncer; call UseQueue before it runs jobs.
func New(deps Deps, cfg *Config) *Syncer {
	c := Config{}
	if cfg != nil {
		c = *cfg
	}
	if c.PlanInterval <= 0 {
		c.PlanInterval = 5 * time.Second
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = 5 * time.Second
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	return &Syncer{deps: deps, cfg: c, metrics: newMetrics(deps.Registerer)}
}

// UseQueue gives the syncer the queue its events' delivery jobs go to.
func (s *Syncer) UseQueue(q engine.JobInserter) { s.jobs = q }

// UseDispatcher hands each page's events to this process's workers
// (stored pending, as the webhook ingress does) instead of queueing a job
// per event; call it before the syncer runs jobs. Without it (a process
// running no workers in-process) every event gets its delivery job.
func (s *Syncer) UseDispatcher(d Dispatcher) { s.fast = d }

// RunArgs is the job that runs (or resumes) one installation's sync of one
// schedule trigger.
type RunArgs struct {
	TenantID       string `json:"tenant_id"`
	InstallationID string `json:"installation_id"`
	Trigger        string `json:"trigger"`
	// Now: asked for on demand, so it runs whatever the schedule says;
	// a planned run that finds the trigger not due (another job ran it
	// meanwhile) does nothing.
	Now bool `json:"now,omitempty"`
}

// KindRun is the job kind of RunArgs.
const KindRun = "accord_sync_run"

// Kind implements river.JobArgs.
func (RunArgs) Kind() string { return KindRun }

// InsertOpts: a run is retried until it completes (each retry resumes at
// the page that failed), so a run under way always has a live job, and
// River rescues the job of a process that died.
func (RunArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1000} }

// pausedRecheck is how often a run interrupted by a pause or a lost
// connection looks again.
const pausedRecheck = 30 * time.Second

// runLeaseTTL bounds how long a run's lease outlives a process that died
// holding it; the lease is renewed before every page.
const runLeaseTTL = 30 * time.Second

// PlanArgs is the periodic job that queues the runs that are due.
type PlanArgs struct{}

// KindPlan is the job kind of PlanArgs.
const KindPlan = "accord_sync_plan"

// Kind implements river.JobArgs.
func (PlanArgs) Kind() string { return KindPlan }

// Register adds the run job and the periodic planner.
func (s *Syncer) Register(reg *queue.Registry) error {
	if err := queue.AddWorker(reg, &runWorker{s: s}); err != nil {
		return err
	}
	if err := queue.AddWorker(reg, &planWorker{s: s}); err != nil {
		return err
	}
	if err := queue.AddWorker(reg, &reconcileWorker{s: s}); err != nil {
		return err
	}
	return reg.AddPeriodic(river.PeriodicInterval(s.cfg.PlanInterval),
		func() (river.JobArgs, *river.InsertOpts) {
			return PlanArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: s.cfg.PlanInterval}}
		},
		&river.PeriodicJobOpts{ID: KindPlan, RunOnStart: true})
}

type runWorker struct {
	river.WorkerDefaults[RunArgs]
	s *Syncer
}

// Timeout: a backfill runs page after page in one job; each page commits,
// so a run cut short resumes where it stopped.
func (w *runWorker) Timeout(*river.Job[RunArgs]) time.Duration { return time.Hour }

func (w *runWorker) Work(ctx context.Context, job *river.Job[RunArgs]) error {
	return w.s.Run(ctx, job.Args)
}

type planWorker struct {
	river.WorkerDefaults[PlanArgs]
	s *Syncer
}

func (w *planWorker) Work(ctx context.Context, _ *river.Job[PlanArgs]) error {
	_, err := w.s.Plan(ctx)
	return err
}

// trigger is one schedule trigger of an installation, resolved.
type trigger struct {
	name     string
	sched    *spec.ScheduleTrigger
	contract *spec.Contract
	provider *spec.Provider
	object   *spec.Object
}

func (s *Syncer) triggers(inst store.Installation) ([]trigger, error) {
	c, err := s.deps.Catalog.Contract(inst.Contract, inst.ContractVersion)
	if err != nil {
		return nil, err
	}
	var out []trigger
	for _, name := range sortedKeys(c.Triggers) {
		t := c.Triggers[name]
		if t == nil || t.Schedule == nil {
			continue
		}
		p := s.deps.Catalog.Providers[t.Schedule.Provider]
		if p == nil || p.Objects[t.Schedule.Object] == nil {
			return nil, fmt.Errorf("trigger %s: provider %s or its object %s is not loaded", name, t.Schedule.Provider, t.Schedule.Object)
		}
		out = append(out, trigger{name: name, sched: t.Schedule, contract: c, provider: p, object: p.Objects[t.Schedule.Object]})
	}
	return out, nil
}

// Plan queues a run for every active installation's schedule trigger that
// is due (never run, or past its next run time) and returns how many.
func (s *Syncer) Plan(ctx context.Context) (int, error) {
	if s.jobs == nil {
		return 0, nil
	}
	tenants, err := s.deps.Store.ListTenants(ctx)
	if err != nil {
		return 0, fmt.Errorf("syncer: listing tenants: %w", err)
	}
	now := s.deps.Now()
	var due []river.InsertManyParams
	for _, t := range tenants {
		insts, err := s.deps.Store.ListInstallations(ctx, t.ID)
		if err != nil {
			return 0, fmt.Errorf("syncer: listing installations of %s: %w", t.ID, err)
		}
		for _, inst := range insts {
			if inst.State != store.InstallationActive {
				continue
			}
			trigs, err := s.triggers(inst)
			if err != nil {
				continue // the engine reports an unloaded contract version
			}
			if len(trigs) > 0 && now.Sub(inst.CreatedAt) >= reconcileEvery {
				last, err := s.deps.Store.GetReconciliation(ctx, inst.TenantID, inst.ID)
				if errors.Is(err, store.ErrNotFound) || (err == nil && now.Sub(last.StartedAt) >= reconcileEvery) {
					due = append(due, river.InsertManyParams{Args: ReconcileArgs{TenantID: inst.TenantID, InstallationID: inst.ID},
						InsertOpts: plannedReconcileOpts()})
				}
			}
			for _, tr := range trigs {
				st, err := s.deps.Store.GetSyncState(ctx, inst.TenantID, inst.ID, tr.name)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return 0, fmt.Errorf("syncer: reading sync state: %w", err)
				}
				if err == nil && (st.Running || now.Before(st.NextRunAt)) {
					continue // not due, or a run's job owns it
				}
				due = append(due, runJob(RunArgs{TenantID: inst.TenantID, InstallationID: inst.ID, Trigger: tr.name}))
			}
		}
	}
	if len(due) == 0 {
		return 0, nil
	}
	err = s.deps.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := s.jobs.InsertManyTx(ctx, tx, due)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("syncer: queueing runs: %w", err)
	}
	return len(due), nil
}

func runJob(a RunArgs) river.InsertManyParams {
	opts := a.InsertOpts()
	return river.InsertManyParams{Args: a, InsertOpts: &opts}
}

// RunNow queues a run of every schedule trigger of the installation at
// once, whatever their schedule, and returns the triggers queued.
func (s *Syncer) RunNow(ctx context.Context, tenantID, installationID string) ([]string, error) {
	inst, err := s.deps.Store.GetInstallation(ctx, tenantID, installationID)
	if err != nil {
		return nil, err
	}
	trigs, err := s.triggers(inst)
	if err != nil {
		return nil, err
	}
	if len(trigs) == 0 {
		return nil, ErrNoSchedule
	}
	if s.jobs == nil {
		return nil, errors.New("syncer: no queue")
	}
	var jobs []river.InsertManyParams
	var names []string
	for _, tr := range trigs {
		jobs = append(jobs, runJob(RunArgs{TenantID: tenantID, InstallationID: installationID, Trigger: tr.name, Now: true}))
		names = append(names, tr.name)
	}
	err = s.deps.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := s.jobs.InsertManyTx(ctx, tx, jobs)
		return err
	})
	return names, err
}

// Run runs one installation's sync of one trigger from where it stands to
// the last page. Each page's events, their delivery (jobs, or pending for
// the fast path) and the state after the page commit in one transaction: a crash or an error resumes at
// the page that did not commit, and a page is never stored twice.
func (s *Syncer) Run(ctx context.Context, args RunArgs) error {
	if s.jobs == nil {
		return errors.New("syncer: no queue to hand the events to (UseQueue)")
	}
	st := s.deps.Store
	inst, err := st.GetInstallation(ctx, args.TenantID, args.InstallationID)
	if errors.Is(err, store.ErrNotFound) {
		return queue.Cancel(fmt.Errorf("installation %s of tenant %s no longer exists", args.InstallationID, args.TenantID))
	}
	if err != nil {
		return fmt.Errorf("syncer: reading installation: %w", err)
	}
	if inst.State == store.InstallationUninstalled {
		return nil
	}
	trigs, err := s.triggers(inst)
	if err != nil {
		return fmt.Errorf("syncer: %w", err)
	}
	var tr *trigger
	for i := range trigs {
		if trigs[i].name == args.Trigger {
			tr = &trigs[i]
		}
	}
	if tr == nil {
		return queue.Cancel(fmt.Errorf("contract %s@%s has no schedule trigger %s", inst.Contract, inst.ContractVersion, args.Trigger))
	}
	connID := inst.Connections[tr.provider.Name]
	conn, err := st.GetConnection(ctx, inst.TenantID, connID)
	if err != nil {
		return fmt.Errorf("syncer: reading %s connection: %w", tr.provider.Name, err)
	}
	state, err := st.GetSyncState(ctx, inst.TenantID, inst.ID, tr.name)
	if errors.Is(err, store.ErrNotFound) {
		state, err = store.SyncState{TenantID: inst.TenantID, InstallationID: inst.ID, Trigger: tr.name}, nil
	}
	if err != nil {
		return fmt.Errorf("syncer: reading sync state: %w", err)
	}
	if why := notRunnable(inst, conn, tr.provider.Name); why != "" {
		// Nothing is read while the installation is paused or the account
		// needs reconnecting; the watermark does not move, so the first
		// run after that lists what changed meanwhile.
		state.LastError = why
		state.UpdatedAt = s.deps.Now()
		if state.Running {
			// The run under way keeps its job and resumes at its cursor.
			if err := s.putState(ctx, state); err != nil {
				return err
			}
			return queue.Snooze(pausedRecheck)
		}
		state.NextRunAt = s.nextRun(tr.sched, s.deps.Now())
		return s.putState(ctx, state)
	}
	// One run per installation and trigger at a time, across processes.
	leaseKey := "sync/" + inst.ID + "/" + tr.name
	leased, err := st.AcquireLease(ctx, inst.TenantID, leaseKey, engine.HolderID(), runLeaseTTL)
	if err != nil {
		return fmt.Errorf("syncer: leasing the run: %w", err)
	}
	if !leased {
		return queue.Snooze(time.Second)
	}
	defer func() {
		if err := st.ReleaseLease(context.WithoutCancel(ctx), inst.TenantID, leaseKey, engine.HolderID()); err != nil {
			s.deps.Logger.WarnContext(ctx, "releasing a sync run's lease failed; it lapses by itself", "err", err)
		}
	}()
	// Read again under the lease: a run that just ended elsewhere moved it.
	if state, err = st.GetSyncState(ctx, inst.TenantID, inst.ID, tr.name); errors.Is(err, store.ErrNotFound) {
		state, err = store.SyncState{TenantID: inst.TenantID, InstallationID: inst.ID, Trigger: tr.name}, nil
	}
	if err != nil {
		return fmt.Errorf("syncer: reading sync state: %w", err)
	}
	if !state.Running && !args.Now && !state.UpdatedAt.IsZero() && s.deps.Now().Before(state.NextRunAt) {
		return nil // a second planned job for a run that has just completed
	}
	auth, err := s.deps.Credentials.Authorizer(ctx, conn, tr.provider)
	if err != nil {
		return fmt.Errorf("syncer: credentials for %s: %w", tr.provider.Name, err)
	}
	cn := s.deps.Connector(tr.provider.Name)
	if cn == nil {
		return fmt.Errorf("syncer: no connector for %s", tr.provider.Name)
	}

	now := s.deps.Now()
	if !state.Running {
		state.Running, state.Cursor, state.RunStartedAt, state.RunRecords, state.RunEvents = true, "", now, 0, 0
		state.RunSince, state.RunMax = 0, 0
		if state.HasWatermark {
			state.RunSince, state.RunMax = state.Watermark, state.Watermark
		}
	}
	run := runState{tr: tr, inst: inst, connID: connID, boundary: s.boundary(tr, inst, state), shape: privacy.ObjectShape(tr.object)}
	lastLog := now
	// The lease was just taken; it is renewed once a third of its TTL has
	// passed rather than before every page: on SQLite each renewal waits
	// for the one writer connection behind the workers applying the pages
	// already stored, and per page that wait was half of a backfill's time.
	renewed := time.Now()
	for {
		if time.Since(renewed) >= runLeaseTTL/3 {
			ok, err := st.RenewLease(ctx, inst.TenantID, leaseKey, engine.HolderID(), runLeaseTTL)
			if err != nil {
				return fmt.Errorf("syncer: renewing the run's lease: %w", err)
			}
			if !ok {
				// Another process took the run over after the lease lapsed;
				// it resumes from the last committed page.
				return queue.Snooze(time.Second)
			}
			renewed = time.Now()
		}
		if err := s.waitForRate(ctx, cn, inst.TenantID); err != nil {
			return err
		}
		if err := s.waitForWorkers(ctx); err != nil {
			return err
		}
		lc := connector.ListCall{Object: tr.object.Name, Cursor: state.Cursor, Limit: s.cfg.PageLimit, Auth: auth}
		if since := tr.object.Endpoints.List.Since; since != "" && state.HasWatermark {
			lc.Query = url.Values{since: {formatVersion(tr.object, state.RunSince)}}
		}
		// The page's events count as received when the request left: a
		// change the page may not show was made after that, so its webhook
		// arrives later and wins the tie between equal versions; a change
		// whose webhook came earlier is in the page.
		sentAt := s.deps.Now()
		page, err := cn.List(ctx, lc)
		if err != nil {
			s.metrics.pageFailed(tr.provider.Name, tr.object.Name)
			state.LastError = err.Error()
			state.UpdatedAt = s.deps.Now()
			if perr := s.putState(ctx, state); perr != nil {
				err = errors.Join(err, perr)
			}
			s.deps.Logger.WarnContext(ctx, "a sync page failed; the run resumes at this page", "tenant_id", inst.TenantID,
				"installation_id", inst.ID, "trigger", tr.name, "records_done", state.RunRecords, "err", err)
			var pe *connector.PartnerError
			if errors.As(err, &pe) && pe.RetryAfter > 0 {
				return queue.Snooze(pe.RetryAfter)
			}
			if s.deps.ReadRefused != nil && s.deps.ReadRefused(ctx, inst, conn, tr.provider, tr.object.Name, err) {
				// The connection is paused with its reconnect prompt; the
				// run keeps its cursor and its job, and looks again.
				return queue.Snooze(pausedRecheck)
			}
			return fmt.Errorf("syncer: listing %s %s: %w", tr.provider.Name, tr.object.Name, err)
		}
		events, skipped, dropped := run.events(page.Items, &state, sentAt)
		s.metrics.dropped(tr.provider.Name, tr.object.Name, dropped)
		next := state
		next.Cursor, next.LastError = page.Next, ""
		next.RunRecords += int64(len(page.Items))
		done := page.Next == ""
		if done {
			end := s.deps.Now()
			next.Running, next.Watermark, next.HasWatermark = false, next.RunMax, true
			next.Runs++
			next.LastCompletedAt, next.NextRunAt = end, s.nextRun(tr.sched, end)
		}
		var stored int
		var fresh []store.Event // stored pending, for the fast path
		err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			var err error
			if stored, fresh, err = s.stage(ctx, tx, events); err != nil {
				return err
			}
			after := next
			after.RunEvents += int64(stored)
			after.UpdatedAt = s.deps.Now()
			return tx.PutSyncState(ctx, after)
		})
		if err != nil {
			return fmt.Errorf("syncer: committing a page: %w", err)
		}
		if len(fresh) > 0 {
			s.fast.Dispatch(fresh)
		}
		next.RunEvents += int64(stored)
		state = next
		s.metrics.page(tr.provider.Name, tr.object.Name, len(page.Items), stored, skipped)
		if t := s.deps.Now(); done || t.Sub(lastLog) >= s.cfg.ProgressEvery {
			lastLog = t
			elapsed := t.Sub(state.RunStartedAt).Seconds()
			rate := 0.0
			if elapsed > 0 {
				rate = float64(state.RunRecords) / elapsed
			}
			msg := "sync progress"
			if done {
				msg = "sync run complete"
			}
			s.deps.Logger.InfoContext(ctx, msg, "tenant_id", inst.TenantID, "installation_id", inst.ID, "trigger", tr.name,
				"records_done", state.RunRecords, "changes", state.RunEvents, "records_per_second", int64(rate))
		}
		if done {
			s.metrics.runDone(tr.provider.Name, tr.object.Name)
			return nil
		}
	}
}

// notRunnable says why a run cannot read now, or "".
func notRunnable(inst store.Installation, conn store.Connection, provider string) string {
	switch {
	case inst.State != store.InstallationActive:
		return fmt.Sprintf("the installation is %s: nothing is read until it is resumed", inst.State)
	case conn.State != store.ConnectionActive:
		return fmt.Sprintf("the %s connection is %s: nothing is read until it is reconnected", provider, conn.State)
	}
	return ""
}

func (s *Syncer) putState(ctx context.Context, state store.SyncState) error {
	if err := s.deps.Store.PutSyncState(ctx, state); err != nil {
		return fmt.Errorf("syncer: storing sync state: %w", err)
	}
	return nil
}

// waitForRate takes a slot of the tenant's partner budget, shared with
// the engine's writes, waiting in place for it.
func (s *Syncer) waitForRate(ctx context.Context, cn *connector.Connector, tenantID string) error {
	wait := cn.Limiter().Reserve(tenantID, "")
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// maxAhead is the share of the fast path's backlog a run may fill before
// it lists the next page. Events past the backlog would wait for the
// sweeper (event_sweep_after), so a backfill keeps its listing just ahead
// of the workers instead, leaving room for webhooks.
const maxAhead = 4

// waitForWorkers holds the next page while the fast path's backlog is
// more than 1/maxAhead full, for at most a third of the run's lease TTL:
// workers stuck on a slow partner must not let the lease lapse, and what
// overflows the backlog is still delivered (the sweeper queues it).
func (s *Syncer) waitForWorkers(ctx context.Context) error {
	if s.fast == nil {
		return nil
	}
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	deadline := time.Now().Add(runLeaseTTL / 3)
	for time.Now().Before(deadline) {
		waiting, capacity := s.fast.Backlog()
		if waiting*maxAhead <= capacity {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// nextRun is when a schedule fires after t.
func (s *Syncer) nextRun(sc *spec.ScheduleTrigger, t time.Time) time.Time {
	if sc.Cron != "" {
		if sched, err := cron.ParseStandard(sc.Cron); err == nil {
			return sched.Next(t.UTC())
		}
	}
	if every := sc.Every.D(); every > 0 {
		return t.Add(every)
	}
	return t.Add(time.Hour)
}

// boundary is the oldest change the first run reads (the contract's
// boundaries.backfill before the installation), by the object's
// updated_at; zero when it does not apply: after the first run the
// watermark bounds what is read, and an object without updated_at cannot
// be bounded by time.
func (s *Syncer) boundary(tr *trigger, inst store.Installation, st store.SyncState) time.Time {
	if st.HasWatermark || tr.object.UpdatedAt == "" {
		return time.Time{}
	}
	// Whole seconds: partners often keep updated_at in Unix seconds, and
	// an object changed in the second of the install is not history.
	return inst.CreatedAt.Add(-tr.contract.Boundaries.Backfill.D()).Truncate(time.Second)
}

// runState turns a page's objects into events.
type runState struct {
	tr       *trigger
	inst     store.Installation
	connID   string
	boundary time.Time
	// shape is what the manifest declares of the object: only that is
	// stored, as for webhooks.
	shape *privacy.Shape
}

// events returns the events of a page's objects, advancing st.RunMax, and
// how many objects were skipped (older than the watermark or the backfill
// boundary, or without an id).
func (r runState) events(items []map[string]any, st *store.SyncState, now time.Time) (out []store.Event, skipped, dropped int) {
	obj := r.tr.object
	out = make([]store.Event, 0, len(items))
	for _, it := range items {
		id := scalarString(it[obj.IDField()])
		if id == "" {
			skipped++
			continue
		}
		version, hasVersion := versionOf(obj, it)
		if hasVersion && st.HasWatermark && version < st.RunSince {
			skipped++ // seen by an earlier run; the partner ignored since
			continue
		}
		if !r.boundary.IsZero() {
			if upd, ok := updatedAt(obj, it); ok && upd.Before(r.boundary) {
				skipped++
				continue
			}
		}
		kept, n := r.shape.Apply(it)
		dropped += n
		payload, err := json.Marshal(kept)
		if err != nil {
			skipped++
			continue
		}
		sum := sha256.Sum256(payload)
		// The dedup key names the object's content, not only its version:
		// a re-listed unchanged object is stored once, and a change within
		// one version tick (Unix seconds) is still a new event.
		dedup := "sync/" + obj.Name + "/" + id + "@" + strconv.FormatInt(version, 10) + "#" + hex.EncodeToString(sum[:12])
		if hasVersion && version > st.RunMax {
			st.RunMax = version
		}
		out = append(out, store.Event{
			TenantID: r.inst.TenantID, ID: "ev_" + uuid.NewString(), ConnectionID: r.connID, DedupKey: dedup,
			Type: engine.SyncEventType(obj.Name), ObjectID: id, ObjectVersion: version, Payload: payload,
			ReceivedAt: now, State: store.EventQueued,
		})
	}
	return out, skipped, dropped
}
