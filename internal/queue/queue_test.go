package queue

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

func TestInsertAndWork(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx := testCtx(t)
		got := make(chan string, 1)
		reg := NewRegistry()
		require.NoError(t, AddWorker(reg, river.WorkFunc(func(ctx context.Context, job *river.Job[echoArgs]) error {
			got <- job.Args.Msg
			return nil
		})))
		q := newTestQueue(t, st, reg, testConfig())
		events, cancel := q.Subscribe(allEvents...)
		defer cancel()
		require.NoError(t, q.Start(ctx))

		id, err := q.Insert(ctx, echoArgs{Msg: "hello"}, nil)
		require.NoError(t, err)
		require.Equal(t, JobStateCompleted, waitState(ctx, t, events, id))
		require.Equal(t, "hello", <-got)

		job, err := q.JobByID(ctx, id)
		require.NoError(t, err)
		require.Equal(t, "test_echo", job.Kind)
		require.Equal(t, JobStateCompleted, job.State)
		require.Equal(t, 1, job.Attempt)
		require.False(t, job.FinalizedAt.IsZero())
		require.JSONEq(t, `{"msg":"hello"}`, string(job.Args))

		depth, err := q.Depth(ctx)
		require.NoError(t, err)
		require.Zero(t, depth)
		require.NoError(t, q.Ping(ctx))
	})
}

// TestInsertTx checks that a job commits or rolls back with the caller's
// rows, while the queue is working: on SQLite this also shows River and a
// store transaction share the single connection without deadlock.
func TestInsertTx(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx := testCtx(t)
		var worked atomic.Int32
		reg := NewRegistry()
		require.NoError(t, AddWorker(reg, river.WorkFunc(func(ctx context.Context, job *river.Job[echoArgs]) error {
			worked.Add(1)
			return nil
		})))
		q := newTestQueue(t, st, reg, testConfig())
		events, cancel := q.Subscribe(allEvents...)
		defer cancel()
		require.NoError(t, q.Start(ctx))

		var rolledBackID int64
		errRollback := errors.New("caller failed")
		err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			require.NoError(t, tx.CreateTenant(ctx, store.Tenant{ID: "t_rolled_back", Name: "Rolled Back"}))
			id, err := q.InsertTx(ctx, tx, echoArgs{Msg: "rolled back"}, nil)
			require.NoError(t, err)
			rolledBackID = id
			return errRollback
		})
		require.ErrorIs(t, err, errRollback)
		_, err = q.JobByID(ctx, rolledBackID)
		require.ErrorIs(t, err, ErrJobNotFound)
		_, err = st.GetTenant(ctx, "t_rolled_back")
		require.ErrorIs(t, err, store.ErrNotFound)

		var committedIDs []int64
		require.NoError(t, st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateTenant(ctx, store.Tenant{ID: "t_committed", Name: "Committed"}); err != nil {
				return err
			}
			id, err := q.InsertTx(ctx, tx, echoArgs{Msg: "one"}, nil)
			if err != nil {
				return err
			}
			ids, err := q.InsertManyTx(ctx, tx, []river.InsertManyParams{
				{Args: echoArgs{Msg: "two"}}, {Args: echoArgs{Msg: "three"}},
			})
			if err != nil {
				return err
			}
			committedIDs = append([]int64{id}, ids...)
			return nil
		}))
		require.Len(t, committedIDs, 3)
		for id, ev := range waitFinal(ctx, t, events, committedIDs...) {
			require.Equal(t, JobStateCompleted, ev.Job.State, "job %d", id)
		}
		require.Equal(t, int32(3), worked.Load())
		_, err = st.GetTenant(ctx, "t_committed")
		require.NoError(t, err)
	})
}

func TestInsertTxRejectsOtherDatabasesTx(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	require.NoError(t, AddWorker(reg, river.WorkFunc(func(context.Context, *river.Job[echoArgs]) error { return nil })))
	st := openSQLite(t)
	q := newTestQueue(t, st, reg, &Config{Logger: slog.New(slog.DiscardHandler)})

	_, err := q.InsertTx(context.Background(), &testTx{driver: "not a tx"}, echoArgs{}, nil)
	require.ErrorIs(t, err, ErrWrongTx)
	_, err = q.InsertManyTx(context.Background(), &testTx{driver: 42}, []river.InsertManyParams{{Args: echoArgs{}}})
	require.ErrorIs(t, err, ErrWrongTx)
}

func TestSnoozeDoesNotUseAnAttempt(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx := testCtx(t)
		var runs atomic.Int32
		attempts := make(chan int, 2)
		reg := NewRegistry()
		require.NoError(t, AddWorker(reg, river.WorkFunc(func(ctx context.Context, job *river.Job[echoArgs]) error {
			attempts <- job.Attempt
			if runs.Add(1) == 1 {
				return Snooze(time.Millisecond)
			}
			return nil
		})))
		q := newTestQueue(t, st, reg, testConfig())
		events, cancel := q.Subscribe(allEvents...)
		defer cancel()
		require.NoError(t, q.Start(ctx))

		// One attempt allowed: if the snooze used it, the job would be
		// discarded instead of run again.
		id, err := q.Insert(ctx, echoArgs{}, &river.InsertOpts{MaxAttempts: 1})
		require.NoError(t, err)
		require.Equal(t, JobStateCompleted, waitState(ctx, t, events, id))

		require.Equal(t, 1, <-attempts)
		require.Equal(t, 1, <-attempts, "the run after a snooze is still attempt 1")
		job, err := q.JobByID(ctx, id)
		require.NoError(t, err)
		require.Equal(t, 1, job.Attempt)
		require.Empty(t, job.Errors)
	})
}

func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx := testCtx(t)
		reg := NewRegistry()
		require.NoError(t, AddWorker(reg, river.WorkFunc(func(ctx context.Context, job *river.Job[echoArgs]) error {
			if job.Attempt == 1 {
				return errors.New("partner down")
			}
			return nil
		})))
		q := newTestQueue(t, st, reg, testConfig())
		events, cancel := q.Subscribe(allEvents...)
		defer cancel()
		require.NoError(t, q.Start(ctx))

		id, err := q.Insert(ctx, echoArgs{}, nil)
		require.NoError(t, err)
		require.Equal(t, JobStateCompleted, waitState(ctx, t, events, id))

		job, err := q.JobByID(ctx, id)
		require.NoError(t, err)
		require.Equal(t, 2, job.Attempt)
		require.Len(t, job.Errors, 1)
		require.Equal(t, 1, job.Errors[0].Attempt)
		require.Equal(t, "partner down", job.Errors[0].Error)
	})
}

func TestCancelErrorIsPermanent(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx := testCtx(t)
		var runs atomic.Int32
		reg := NewRegistry()
		require.NoError(t, AddWorker(reg, river.WorkFunc(func(ctx context.Context, job *river.Job[echoArgs]) error {
			runs.Add(1)
			return Cancel(errors.New("record rejected: email invalid"))
		})))
		q := newTestQueue(t, st, reg, testConfig())
		events, cancel := q.Subscribe(allEvents...)
		defer cancel()
		require.NoError(t, q.Start(ctx))

		id, err := q.Insert(ctx, echoArgs{}, nil)
		require.NoError(t, err)
		require.Equal(t, JobStateCancelled, waitState(ctx, t, events, id))

		job, err := q.JobByID(ctx, id)
		require.NoError(t, err)
		require.Equal(t, int32(1), runs.Load())
		require.Len(t, job.Errors, 1)
		require.Contains(t, job.Errors[0].Error, "email invalid")
	})
}

func TestStopWaitsForRunningJob(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx := testCtx(t)
		started := make(chan struct{})
		release := make(chan struct{})
		var finished, ctxCancelled atomic.Bool
		reg := NewRegistry()
		require.NoError(t, AddWorker(reg, river.WorkFunc(func(ctx context.Context, job *river.Job[echoArgs]) error {
			close(started)
			select {
			case <-release:
			case <-ctx.Done():
				ctxCancelled.Store(true)
				return ctx.Err()
			}
			finished.Store(true)
			return nil
		})))
		q := newTestQueue(t, st, reg, testConfig())
		require.NoError(t, q.Start(ctx))
		id, err := q.Insert(ctx, echoArgs{}, nil)
		require.NoError(t, err)
		<-started

		stopped := make(chan error, 1)
		go func() { stopped <- q.Stop(ctx) }()
		// Stop must not return while the job runs. Waiting cannot make
		// this fail spuriously: only a Stop that does not wait returns.
		select {
		case err := <-stopped:
			t.Fatalf("Stop returned (%v) while a job was running", err)
		case <-time.After(200 * time.Millisecond):
		}
		close(release)
		require.NoError(t, <-stopped)
		require.True(t, finished.Load())
		require.False(t, ctxCancelled.Load(), "a graceful stop must not cancel the job")

		job, err := q.JobByID(ctx, id)
		require.NoError(t, err)
		require.Equal(t, JobStateCompleted, job.State)
	})
}

func TestStopCancelsJobsWhenCtxEnds(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx := testCtx(t)
		started := make(chan struct{})
		reg := NewRegistry()
		require.NoError(t, AddWorker(reg, river.WorkFunc(func(ctx context.Context, job *river.Job[echoArgs]) error {
			close(started)
			<-ctx.Done() // a job that only ends when told to
			return ctx.Err()
		})))
		q := newTestQueue(t, st, reg, testConfig())
		require.NoError(t, q.Start(ctx))
		id, err := q.Insert(ctx, echoArgs{}, nil)
		require.NoError(t, err)
		<-started

		stopCtx, cancel := context.WithCancel(ctx)
		cancel()
		err = q.Stop(stopCtx)
		require.ErrorIs(t, err, context.Canceled)

		// The job was interrupted, not lost: it waits for another run.
		job, err := q.JobByID(ctx, id)
		require.NoError(t, err)
		require.NotEqual(t, JobStateRunning, job.State)
		require.NotEqual(t, JobStateCompleted, job.State)
	})
}

func TestInsertOnlyQueueNeverWorks(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx := testCtx(t)

		apiReg := NewRegistry()
		require.NoError(t, AddWorker(apiReg, river.WorkFunc(func(ctx context.Context, job *river.Job[echoArgs]) error {
			t.Errorf("the api-only process worked job %d", job.ID)
			return nil
		})))
		apiCfg := testConfig()
		apiCfg.Workers = false
		api := newTestQueue(t, st, apiReg, apiCfg)
		require.NoError(t, api.Start(ctx))
		apiEvents, cancel := api.Subscribe(allEvents...)
		defer cancel()
		require.Nil(t, apiEvents)

		id, err := api.Insert(ctx, echoArgs{Msg: "from api"}, nil)
		require.NoError(t, err)
		_, err = api.Insert(ctx, noopArgs{}, nil)
		require.Error(t, err, "a kind no one registered is rejected at insert")
		depth, err := api.Depth(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, depth)

		// A worker process over the same database runs it.
		done := make(chan string, 1)
		workReg := NewRegistry()
		require.NoError(t, AddWorker(workReg, river.WorkFunc(func(ctx context.Context, job *river.Job[echoArgs]) error {
			done <- job.Args.Msg
			return nil
		})))
		worker := newTestQueue(t, st, workReg, testConfig())
		events, cancelW := worker.Subscribe(allEvents...)
		defer cancelW()
		require.NoError(t, worker.Start(ctx))
		require.Equal(t, JobStateCompleted, waitState(ctx, t, events, id))
		require.Equal(t, "from api", <-done)
		require.NoError(t, api.Stop(ctx))
	})
}

func TestJobAdmin(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx := testCtx(t)
		reg := NewRegistry()
		require.NoError(t, AddWorker(reg, river.WorkFunc(func(context.Context, *river.Job[echoArgs]) error { return nil })))
		cfg := testConfig()
		cfg.Workers = false
		q := newTestQueue(t, st, reg, cfg)

		_, err := q.JobByID(ctx, 987654)
		require.ErrorIs(t, err, ErrJobNotFound)
		_, err = q.Cancel(ctx, 987654)
		require.ErrorIs(t, err, ErrJobNotFound)
		_, err = q.RetryJob(ctx, 987654)
		require.ErrorIs(t, err, ErrJobNotFound)

		ids, err := q.InsertMany(ctx, []river.InsertManyParams{
			{Args: echoArgs{Msg: "now"}},
			{Args: echoArgs{Msg: "later"}, InsertOpts: &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)}},
		})
		require.NoError(t, err)
		require.Len(t, ids, 2)
		later, err := q.JobByID(ctx, ids[1])
		require.NoError(t, err)
		require.Equal(t, JobStateScheduled, later.State)
		depth, err := q.Depth(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, depth)

		cancelled, err := q.Cancel(ctx, ids[1])
		require.NoError(t, err)
		require.Equal(t, JobStateCancelled, cancelled.State)
		depth, err = q.Depth(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, depth)

		retried, err := q.RetryJob(ctx, ids[1])
		require.NoError(t, err)
		require.Equal(t, JobStateAvailable, retried.State)
		depth, err = q.Depth(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, depth)
	})
}

func TestPeriodicJobRuns(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx := testCtx(t)
		ran := make(chan int, 10)
		reg := NewRegistry()
		require.NoError(t, AddWorker(reg, river.WorkFunc(func(ctx context.Context, job *river.Job[noopArgs]) error {
			ran <- job.Args.N
			return nil
		})))
		require.NoError(t, reg.AddPeriodic(river.PeriodicInterval(time.Hour), func() (river.JobArgs, *river.InsertOpts) {
			return noopArgs{N: 7}, nil
		}, &river.PeriodicJobOpts{ID: "hourly", RunOnStart: true}))
		q := newTestQueue(t, st, reg, testConfig())
		require.NoError(t, q.Start(ctx))

		select {
		case n := <-ran:
			require.Equal(t, 7, n)
		case <-ctx.Done():
			t.Fatal("the periodic job never ran")
		}
	})
}

func TestArgsRoundTrip(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	reg := NewRegistry()
	require.NoError(t, AddWorker(reg, river.WorkFunc(func(context.Context, *river.Job[echoArgs]) error { return nil })))
	q := newTestQueue(t, st, reg, &Config{Logger: slog.New(slog.DiscardHandler)})
	id, err := q.Insert(context.Background(), echoArgs{Msg: `quote " and ünïcode`}, nil)
	require.NoError(t, err)
	job, err := q.JobByID(context.Background(), id)
	require.NoError(t, err)
	var got echoArgs
	require.NoError(t, json.Unmarshal(job.Args, &got))
	require.Equal(t, `quote " and ünïcode`, got.Msg)
}
