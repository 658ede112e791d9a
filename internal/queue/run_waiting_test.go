package queue

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// tenantArgs is a job whose args carry the fields RunWaitingNow matches on;
// Mode says what its worker does.
type tenantArgs struct {
	TenantID string `json:"tenant_id"`
	Group    string `json:"group"`
	Mode     string `json:"mode"`
}

func (tenantArgs) Kind() string { return "test_tenant" }

type otherTenantArgs struct {
	TenantID string `json:"tenant_id"`
	Group    string `json:"group"`
}

func (otherTenantArgs) Kind() string { return "test_other_tenant" }

const (
	modeOK       = "ok"
	modeFailOnce = "fail_once"
	modeBlock    = "block"
)

func TestRunWaitingNowRunsOnlyMatchingWaitingJobs(t *testing.T) {
	t.Parallel()
	for _, page := range []int{runWaitingPage, 1} {
		t.Run("page "+strconv.Itoa(page), func(t *testing.T) {
			t.Parallel()
			eachDB(t, func(t *testing.T, st store.Store) {
				ctx := testCtx(t)
				release := make(chan struct{})
				started := make(chan int64, 1)
				reg := NewRegistry()
				require.NoError(t, AddWorker(reg, river.WorkFunc(func(ctx context.Context, job *river.Job[tenantArgs]) error {
					switch job.Args.Mode {
					case modeFailOnce:
						if job.Attempt == 1 {
							return errors.New("partner down")
						}
					case modeBlock:
						started <- job.ID
						select {
						case <-release:
						case <-ctx.Done():
							return ctx.Err()
						}
					}
					return nil
				})))
				require.NoError(t, AddWorker(reg, river.WorkFunc(func(ctx context.Context, job *river.Job[otherTenantArgs]) error { return nil })))
				cfg := testConfig()
				// A failed job waits an hour: only RunWaitingNow brings it back.
				cfg.RetryPolicy = &Backoff{Base: time.Hour, Max: time.Hour, Jitter: -1}
				q := newTestQueue(t, st, reg, cfg)
				events, cancel := q.Subscribe(allEvents...)
				t.Cleanup(cancel)
				require.NoError(t, q.Start(ctx))

				// Finished and running jobs of the tenant: never touched.
				done, err := q.Insert(ctx, tenantArgs{TenantID: "t1", Group: "a", Mode: modeOK}, nil)
				require.NoError(t, err)
				require.Equal(t, JobStateCompleted, waitState(ctx, t, events, done))
				running, err := q.Insert(ctx, tenantArgs{TenantID: "t1", Group: "a", Mode: modeBlock}, nil)
				require.NoError(t, err)
				require.Equal(t, running, <-started)
				t.Cleanup(func() { close(release) })

				// A retryable job of the tenant.
				failed, err := q.Insert(ctx, tenantArgs{TenantID: "t1", Group: "a", Mode: modeFailOnce}, nil)
				require.NoError(t, err)
				waitRetryable(ctx, t, q, failed)

				later := &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)}
				ids, err := q.InsertMany(ctx, []river.InsertManyParams{
					{Args: tenantArgs{TenantID: "t1", Group: "a", Mode: modeOK}, InsertOpts: later},
					{Args: tenantArgs{TenantID: "t1", Group: "a", Mode: modeOK}, InsertOpts: later},
					{Args: tenantArgs{TenantID: "t2", Group: "a", Mode: modeOK}, InsertOpts: later},
					{Args: tenantArgs{TenantID: "t1", Group: "b", Mode: modeOK}, InsertOpts: later},
					{Args: otherTenantArgs{TenantID: "t1", Group: "a"}, InsertOpts: later},
				})
				require.NoError(t, err)
				matching, others := ids[:2], ids[2:]

				n, err := q.runWaitingNow(ctx, "test_tenant", map[string]string{"tenant_id": "t1", "group": "a"}, page)
				require.NoError(t, err)
				require.Equal(t, 3, n, "the two scheduled jobs and the retryable one")

				final := waitFinal(ctx, t, events, append([]int64{failed}, matching...)...)
				for id, ev := range final {
					require.Equal(t, JobStateCompleted, ev.Job.State, "job %d", id)
				}
				for _, id := range others {
					job, err := q.JobByID(ctx, id)
					require.NoError(t, err)
					require.Equal(t, JobStateScheduled, job.State, "job %d of another tenant, group or kind waits", id)
				}
				job, err := q.JobByID(ctx, running)
				require.NoError(t, err)
				require.Equal(t, JobStateRunning, job.State)
				require.Equal(t, 1, job.Attempt)
				job, err = q.JobByID(ctx, done)
				require.NoError(t, err)
				require.Equal(t, JobStateCompleted, job.State, "a finished job is not run again")
				require.Equal(t, 1, job.Attempt)
			})
		})
	}
}

func TestRunWaitingNowRejectsFieldsThatAreNotIdentifiers(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	q := newTestQueue(t, openSQLite(t), reg, &Config{Logger: slog.New(slog.DiscardHandler)})
	_, err := q.RunWaitingNow(t.Context(), "test_tenant", map[string]string{"tenant_id') OR 1=1 --": "x"})
	require.ErrorIs(t, err, ErrBadArgField)
}

// waitRetryable waits until job id failed and waits for its retry.
func waitRetryable(ctx context.Context, t *testing.T, q *Queue, id int64) {
	t.Helper()
	for {
		job, err := q.JobByID(ctx, id)
		require.NoError(t, err)
		if job.State == JobStateRetryable {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("job %d never became retryable: %s", id, job.State)
		case <-time.After(5 * time.Millisecond):
		}
	}
}
