package queue

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/postgres"
	"github.com/accordhq/accord/internal/store/sqlite"
)

// testTx stands in for a store transaction from another database; the
// embedded interface is nil and must not be called.
type testTx struct {
	store.Tx
	driver any
}

func (t *testTx) Driver() any { return t.driver }

// fakeStore stands in for a store whose handle is wrong; the embedded
// interface is nil and must not be called.
type fakeStore struct {
	store.Store
	dialect store.Dialect
	driver  any
}

func (s *fakeStore) Dialect() store.Dialect { return s.dialect }
func (s *fakeStore) Driver() any            { return s.driver }

func openSQLite(t testing.TB) store.Store { return sqlite.OpenTest(t) }

// openPostgres opens a store on a fresh schema, or skips the test when
// ACCORD_TEST_POSTGRES is unset.
func openPostgres(t testing.TB) store.Store {
	t.Helper()
	dsn := os.Getenv("ACCORD_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("set ACCORD_TEST_POSTGRES=postgres://… to run the PostgreSQL tests")
	}
	return postgres.OpenTestSchema(t, dsn)
}

// dbs are the databases every queue test runs on.
var dbs = []struct {
	name string
	open func(testing.TB) store.Store
}{
	{"sqlite", openSQLite},
	{"postgres", openPostgres},
}

// eachDB runs fn as a parallel subtest on every database.
func eachDB(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Helper()
	for _, db := range dbs {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			fn(t, db.open(t))
		})
	}
}

// testConfig is a worker Config fit for tests: quiet, fast retries, and
// River's test mode. Callers adjust it before newTestQueue.
func testConfig() *Config {
	return &Config{
		Workers:     true,
		MaxWorkers:  10,
		RetryPolicy: &Backoff{Base: time.Millisecond, Max: time.Millisecond},
		Logger:      slog.New(slog.DiscardHandler),
		testOnly:    true,
	}
}

// newTestQueue builds and migrates a Queue; a started Queue is stopped
// (hard) at the end of the test.
func newTestQueue(t testing.TB, st store.Store, reg *Registry, cfg *Config) *Queue {
	t.Helper()
	q, err := New(st, reg, cfg)
	require.NoError(t, err)
	require.NoError(t, q.Migrate(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if q.cfg.Workers {
			_ = q.b.stopAndCancel(ctx)
			q.discard.wait(ctx)
			_ = q.beat.end(ctx)
		}
	})
	return q
}

// testCtx bounds a test that waits on jobs; the bound is a safety net
// against a hang, far above what any test needs.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitFinal reads events until every job in ids reaches a final state
// (completed, cancelled, discarded) and returns the last event of each.
func waitFinal(ctx context.Context, t testing.TB, events <-chan *river.Event, ids ...int64) map[int64]*river.Event {
	t.Helper()
	want := make(map[int64]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	got := make(map[int64]*river.Event, len(ids))
	for len(got) < len(want) {
		select {
		case ev := <-events:
			if ev.Job == nil || !want[ev.Job.ID] {
				continue
			}
			switch ev.Job.State {
			case JobStateCompleted, JobStateCancelled, JobStateDiscarded:
				got[ev.Job.ID] = ev
			}
		case <-ctx.Done():
			t.Fatalf("jobs %v did not all finish (%d did): %v", ids, len(got), ctx.Err())
			return nil
		}
	}
	return got
}

// waitState waits for job id's final event and returns its state.
func waitState(ctx context.Context, t testing.TB, events <-chan *river.Event, id int64) JobState {
	t.Helper()
	return waitFinal(ctx, t, events, id)[id].Job.State
}

var allEvents = []river.EventKind{
	river.EventKindJobCompleted,
	river.EventKindJobCancelled,
	river.EventKindJobFailed,
	river.EventKindJobSnoozed,
}

// Job kinds used in the tests.

type noopArgs struct {
	N int `json:"n"`
}

func (noopArgs) Kind() string { return "test_noop" }

type echoArgs struct {
	Msg string `json:"msg"`
}

func (echoArgs) Kind() string { return "test_echo" }
