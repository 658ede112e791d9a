package queue

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

func TestRescueDefaultFollowsJobTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Config
		want time.Duration
	}{
		{"default job timeout", Config{}, DefaultJobTimeout + DefaultRescueMargin},
		{"longer job timeout", Config{JobTimeout: 10 * time.Minute}, 10*time.Minute + DefaultRescueMargin},
		{"no job timeout: River's default", Config{JobTimeout: -1}, 0},
		{"explicit wins", Config{RescueStuckJobsAfter: time.Hour}, time.Hour},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, tc.in.withDefaults().RescueStuckJobsAfter, tc.name)
	}
	err := (&Config{JobTimeout: time.Hour, RescueStuckJobsAfter: time.Minute}).withDefaults().validate()
	require.ErrorContains(t, err, "RescueStuckJobsAfter")
	err = (&Config{HeartbeatInterval: time.Second, HeartbeatTTL: time.Second}).withDefaults().validate()
	require.ErrorContains(t, err, "HeartbeatTTL")
}

// TestOnDiscard: the hook runs once for a job that used up its attempts,
// with its last error, and not for one that succeeded or will retry.
func TestOnDiscard(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx := testCtx(t)
		reg := NewRegistry()
		require.NoError(t, AddWorker(reg, river.WorkFunc(func(ctx context.Context, job *river.Job[echoArgs]) error {
			if job.Args.Msg == "ok" {
				return nil
			}
			return errors.New("partner said no: " + job.Args.Msg)
		})))
		type call struct {
			job Job
			err string
		}
		var mu sync.Mutex
		var calls []call
		cfg := testConfig()
		cfg.OnDiscard = func(ctx context.Context, job Job, err string) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, call{job, err})
		}
		q := newTestQueue(t, st, reg, cfg)
		events, cancel := q.Subscribe(allEvents...)
		defer cancel()
		require.NoError(t, q.Start(ctx))

		bad, err := q.Insert(ctx, echoArgs{Msg: "bad"}, &river.InsertOpts{MaxAttempts: 2})
		require.NoError(t, err)
		good, err := q.Insert(ctx, echoArgs{Msg: "ok"}, nil)
		require.NoError(t, err)
		final := waitFinal(ctx, t, events, bad, good)
		require.Equal(t, JobStateDiscarded, final[bad].Job.State)

		// Stop flushes the hook's pending events: no sleeping for it.
		require.NoError(t, q.Stop(ctx))
		mu.Lock()
		defer mu.Unlock()
		require.Len(t, calls, 1, "once, for the discarded job only")
		require.Equal(t, bad, calls[0].job.ID)
		require.Equal(t, JobStateDiscarded, calls[0].job.State)
		require.Equal(t, 2, calls[0].job.Attempt)
		require.Equal(t, "partner said no: bad", calls[0].err)
	})
}

// insertRunning stores a job River believes running, last attempted by
// client: what a process that died mid-job leaves behind.
func insertRunning(t *testing.T, q *Queue, client string) int64 {
	t.Helper()
	now := time.Now().UTC()
	p := &riverdriver.JobInsertFullParams{
		Attempt: 1, AttemptedAt: &now, AttemptedBy: []string{"earlier-client", client}, CreatedAt: &now,
		EncodedArgs: []byte(`{"n":1}`), Kind: noopArgs{}.Kind(), MaxAttempts: 5, Metadata: []byte(`{}`),
		Priority: 1, Queue: QueueDefault, ScheduledAt: &now, State: rivertype.JobStateRunning,
	}
	var row *rivertype.JobRow
	var err error
	switch b := q.b.(type) {
	case *riverBackend[*sql.Tx]:
		p.Schema = b.schema
		row, err = b.driver.GetExecutor().JobInsertFull(context.Background(), p)
	case *riverBackend[pgx.Tx]:
		p.Schema = b.schema
		row, err = b.driver.GetExecutor().JobInsertFull(context.Background(), p)
	default:
		t.Fatalf("unknown backend %T", q.b)
	}
	require.NoError(t, err)
	return row.ID
}

// TestStrandedJobs: a running job whose process heartbeats is not
// stranded; one attributed to a client with no live heartbeat is, and a
// process that stops cleanly leaves its jobs' client without a heartbeat.
func TestStrandedJobs(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx := testCtx(t)
		reg := NewRegistry()
		require.NoError(t, AddWorker(reg, river.WorkFunc(func(ctx context.Context, job *river.Job[noopArgs]) error {
			return nil
		})))
		cfg := testConfig()
		cfg.ID = "live-client"
		// Only the heartbeat is under test: no queue is worked, so the
		// rows inserted running stay running.
		cfg.Queues = map[string]QueueConfig{"elsewhere": {}}
		// A TTL far above the interval: a loaded machine may delay a
		// renewal, and the test checks renewal by progress, not timing.
		cfg.HeartbeatInterval, cfg.HeartbeatTTL = 20*time.Millisecond, 30*time.Second
		q := newTestQueue(t, st, reg, cfg)

		n, err := q.StrandedJobs(ctx)
		require.NoError(t, err)
		require.Zero(t, n)

		insertRunning(t, q, "live-client")
		insertRunning(t, q, "dead-client")
		n, err = q.StrandedJobs(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n, "not started: no heartbeat yet")

		require.NoError(t, q.Start(ctx))
		n, err = q.StrandedJobs(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n, "only the dead client's job")
		// The heartbeat renews: its expiry moves forward.
		expiry := func() time.Time {
			leases, err := st.ListProcessLeases(ctx, ProcessLeasePrefix)
			require.NoError(t, err)
			require.Len(t, leases, 1)
			return leases[0].ExpiresAt
		}
		first := expiry()
		require.Eventually(t, func() bool { return expiry().After(first) }, 30*time.Second, 20*time.Millisecond, "the heartbeat is renewed")
		n, err = q.StrandedJobs(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n, "still only the dead client's job")

		// A second process may not heartbeat under the same id.
		twin := newTestQueue(t, st, reg, cfg)
		require.ErrorIs(t, twin.Start(ctx), ErrDuplicateClientID)

		// An insert-only Queue (an api process) can ask too.
		api, err := New(st, reg, &Config{Logger: cfg.Logger})
		require.NoError(t, err)
		n, err = api.StrandedJobs(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)

		require.NoError(t, q.Stop(ctx))
		n, err = q.StrandedJobs(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n, "stopped: its heartbeat is released")
		leases, err := st.ListProcessLeases(ctx, ProcessLeasePrefix)
		require.NoError(t, err)
		require.Empty(t, leases)
	})
}

// TestRescueStranded: a job left running by a dead process is available
// again at once (River's rescuer would wait RescueStuckJobsAfter, an hour
// by default, while nothing showed it); a live process's job is untouched.
func TestRescueStranded(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx := testCtx(t)
		reg := NewRegistry()
		require.NoError(t, AddWorker(reg, river.WorkFunc(func(ctx context.Context, job *river.Job[noopArgs]) error {
			return nil
		})))
		cfg := testConfig()
		cfg.ID = "live-client"
		cfg.Queues = map[string]QueueConfig{"elsewhere": {}}
		q := newTestQueue(t, st, reg, cfg)
		require.NoError(t, q.Start(ctx))
		t.Cleanup(func() { _ = q.Stop(context.Background()) })

		live := insertRunning(t, q, "live-client")
		dead := insertRunning(t, q, "dead-client")
		n, err := q.RescueStranded(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)

		j, err := q.JobByID(ctx, dead)
		require.NoError(t, err)
		require.Equal(t, JobStateAvailable, j.State, "ready to run again now")
		require.NotEmpty(t, j.Errors)
		require.Contains(t, j.Errors[len(j.Errors)-1].Error, "stopped heartbeating")
		j, err = q.JobByID(ctx, live)
		require.NoError(t, err)
		require.Equal(t, JobStateRunning, j.State, "a live process keeps its job")

		n, err = q.RescueStranded(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "nothing left to rescue")
	})
}
