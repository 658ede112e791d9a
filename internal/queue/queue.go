package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/accordhq/accord/internal/store"
)

// Queue is River over the store's database. Its methods are safe for
// concurrent use.
type Queue struct {
	b       backend
	cfg     *Config
	dialect store.Dialect
	st      store.Store
	beat    heartbeat
	discard discardWatcher
}

// New builds a Queue over st's database with the kinds in reg; cfg may be
// nil (an insert-only client with the defaults, see Config). Kinds added to
// reg after New are not seen by this Queue. New does not touch the
// database: call Migrate once, then Start in worker processes.
func New(st store.Store, reg *Registry, cfg *Config) (*Queue, error) {
	if st == nil || reg == nil {
		return nil, errors.New("queue: New: store and registry are required")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	rc, err := cfg.riverConfig(reg)
	if err != nil {
		return nil, err
	}

	var b backend
	switch d := st.Dialect(); d {
	case store.DialectSQLite:
		db, ok := st.Driver().(*sql.DB)
		if !ok || db == nil {
			return nil, fmt.Errorf("%w: sqlite store driver is %T, want *sql.DB", ErrUnsupportedDialect, st.Driver())
		}
		// SQLite has no schemas in River's sense; a PostgreSQL setting
		// must not leak into table names here.
		rc.Schema = ""
		b, err = newRiverBackend(riversqlite.New(db), rc)
	case store.DialectPostgres:
		pool, ok := st.Driver().(*pgxpool.Pool)
		if !ok || pool == nil {
			return nil, fmt.Errorf("%w: postgres store driver is %T, want *pgxpool.Pool", ErrUnsupportedDialect, st.Driver())
		}
		b, err = newRiverBackend(riverpgxv5.New(pool), rc)
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedDialect, d)
	}
	if err != nil {
		return nil, err
	}
	q := &Queue{b: b, cfg: cfg, dialect: st.Dialect(), st: st}
	q.beat = heartbeat{st: st, id: b.clientID(), key: processKey(b.clientID()),
		interval: cfg.HeartbeatInterval, ttl: cfg.HeartbeatTTL, logger: cfg.Logger}
	q.discard.fn = cfg.OnDiscard
	return q, nil
}

// Migrate applies River's migrations for the Queue's database. It is
// idempotent; run it before Start (accord migrate, or at start-up).
func (q *Queue) Migrate(ctx context.Context) error {
	if err := q.b.migrate(ctx, q.cfg.Logger); err != nil {
		return fmt.Errorf("queue: migrating %s: %w", q.dialect, err)
	}
	return nil
}

// Insert enqueues one job in its own transaction and returns its id (for a
// unique job already queued, the existing job's id). opts may be nil.
//
// Never call Insert while holding a store transaction on SQLite: use
// InsertTx, or Insert would wait forever for the connection the
// transaction holds.
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (int64, error) {
	res, err := q.b.insert(ctx, args, opts)
	if err != nil {
		return 0, fmt.Errorf("queue: inserting %s: %w", args.Kind(), err)
	}
	return res.Job.ID, nil
}

// InsertTx enqueues one job inside tx: it becomes visible to workers when
// tx commits and vanishes if tx rolls back. opts may be nil.
func (q *Queue) InsertTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, error) {
	res, err := q.b.insertTx(ctx, tx.Driver(), args, opts)
	if err != nil {
		return 0, fmt.Errorf("queue: inserting %s: %w", args.Kind(), err)
	}
	return res.Job.ID, nil
}

// InsertMany enqueues many jobs in one transaction and returns their ids in
// the order given: the way to batch (group commit) inserts.
func (q *Queue) InsertMany(ctx context.Context, params []river.InsertManyParams) ([]int64, error) {
	res, err := q.b.insertMany(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("queue: inserting %d jobs: %w", len(params), err)
	}
	return ids(res), nil
}

// InsertManyTx enqueues many jobs inside tx, like InsertTx.
func (q *Queue) InsertManyTx(ctx context.Context, tx store.Tx, params []river.InsertManyParams) ([]int64, error) {
	res, err := q.b.insertManyTx(ctx, tx.Driver(), params)
	if err != nil {
		return nil, fmt.Errorf("queue: inserting %d jobs: %w", len(params), err)
	}
	return ids(res), nil
}

// DeleteWaitingTx deletes, inside tx, those of the jobs that are still
// waiting (available, scheduled or retryable) and returns how many it
// deleted. A job already running is left alone: River finishes it. This is
// how work done outside River (the engine's in-process fast path) retires
// the job that guarded it.
func (q *Queue) DeleteWaitingTx(ctx context.Context, tx store.Tx, jobIDs []int64) (int, error) {
	if len(jobIDs) == 0 {
		return 0, nil
	}
	n, err := q.b.deleteWaitingTx(ctx, tx.Driver(), jobIDs)
	if err != nil {
		return 0, fmt.Errorf("queue: deleting %d jobs: %w", len(jobIDs), err)
	}
	return n, nil
}

func ids(res []*rivertype.JobInsertResult) []int64 {
	out := make([]int64, len(res))
	for i, r := range res {
		out[i] = r.Job.ID
	}
	return out
}

// Start starts fetching and working jobs in the background and returns.
// On an insert-only Queue (Config.Workers false) it does nothing. ctx
// carries values to the jobs but its cancellation does not stop the
// Queue: call Stop, which drains gracefully. It first takes this process's
// heartbeat lease (see StrandedJobs) and fails with ErrDuplicateClientID
// if another live process heartbeats under the same Config.ID.
func (q *Queue) Start(ctx context.Context) error {
	if !q.cfg.Workers {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	// The heartbeat comes first: no job may run here before this
	// process's liveness is on record.
	if err := q.beat.start(ctx); err != nil {
		return err
	}
	if q.discard.fn != nil {
		q.discard.start(ctx, q.b)
	}
	if err := q.b.start(ctx); err != nil {
		return errors.Join(fmt.Errorf("queue: starting: %w", err), q.beat.end(ctx))
	}
	return nil
}

// Stop drains the Queue: it stops fetching and waits for running jobs to
// finish. If ctx ends first, it cancels the running jobs' contexts, waits
// up to Config.StopCancelTimeout for them to return, and returns an error
// wrapping ctx's; the cancelled jobs are retried later. Once no job of this
// process runs any more, it waits for pending OnDiscard calls and releases
// the heartbeat lease. It does nothing on an insert-only Queue or one
// never started.
func (q *Queue) Stop(ctx context.Context) error {
	if !q.cfg.Workers {
		return nil
	}
	err := q.b.stop(ctx)
	if err == nil {
		q.discard.wait(ctx)
		return q.beat.end(ctx)
	}
	// Jobs may still run: the heartbeat stays, so they are not counted
	// stranded while this process lives.
	if ctx.Err() == nil {
		return fmt.Errorf("queue: stopping: %w", err)
	}
	cancelCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), q.cfg.StopCancelTimeout)
	defer cancel()
	if cerr := q.b.stopAndCancel(cancelCtx); cerr != nil {
		return fmt.Errorf("queue: jobs still running after cancel: %w", errors.Join(ctx.Err(), cerr))
	}
	q.discard.wait(cancelCtx)
	return errors.Join(fmt.Errorf("queue: drain cut short, running jobs cancelled: %w", ctx.Err()), q.beat.end(cancelCtx))
}

// Subscribe returns a channel of River's events of the given kinds
// (river.EventKindJobCompleted, …) for jobs worked by this process, and a
// function ending the subscription. Events are dropped, not queued, when
// the reader falls 1,000 behind. An insert-only Queue works nothing and
// returns a nil channel.
func (q *Queue) Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	if !q.cfg.Workers {
		return nil, func() {}
	}
	return q.b.subscribe(kinds)
}

// Ping checks that the queue's database answers.
func (q *Queue) Ping(ctx context.Context) error {
	if err := q.b.ping(ctx); err != nil {
		return fmt.Errorf("queue: ping: %w", err)
	}
	return nil
}

// Depth counts the jobs waiting to run: available, scheduled and
// retryable (accord_queue_depth, /readyz).
func (q *Queue) Depth(ctx context.Context) (int, error) {
	total := 0
	for _, s := range []JobState{JobStateAvailable, JobStateScheduled, JobStateRetryable} {
		n, err := q.b.countByState(ctx, s)
		if err != nil {
			return 0, fmt.Errorf("queue: counting %s jobs: %w", s, err)
		}
		total += n
	}
	return total, nil
}

// JobByID returns the job with id, or ErrJobNotFound.
func (q *Queue) JobByID(ctx context.Context, id int64) (Job, error) {
	row, err := q.b.jobGet(ctx, id)
	if err != nil {
		return Job{}, fmt.Errorf("queue: getting job %d: %w", id, notFound(err))
	}
	return jobFromRow(row), nil
}

// Cancel cancels the job with id so it never runs again and returns it.
// A job not yet running is cancelled at once; a running one has its
// context cancelled (in whichever process runs it) and is recorded
// cancelled when its worker returns, so the returned state may still be
// running. Cancelling a finished job changes nothing. ErrJobNotFound if no
// such job.
func (q *Queue) Cancel(ctx context.Context, id int64) (Job, error) {
	row, err := q.b.jobCancel(ctx, id)
	if err != nil {
		return Job{}, fmt.Errorf("queue: cancelling job %d: %w", id, notFound(err))
	}
	return jobFromRow(row), nil
}

// RetryJob makes the job with id available to run now, whatever its state
// (a discarded or cancelled job gets one more attempt; a running one is
// left alone), and returns it. ErrJobNotFound if no such job.
func (q *Queue) RetryJob(ctx context.Context, id int64) (Job, error) {
	row, err := q.b.jobRetry(ctx, id)
	if err != nil {
		return Job{}, fmt.Errorf("queue: retrying job %d: %w", id, notFound(err))
	}
	return jobFromRow(row), nil
}
