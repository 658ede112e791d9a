package queue

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/accordhq/accord/internal/store"
)

// testStore is the part of a store.Store the queue uses, over a real
// database opened the way internal/store opens it. The embedded interface
// is nil: the queue must not call anything else, and would panic if it did.
// (Replace with sqlite.OpenTest / postgres.OpenTestSchema once they land.)
type testStore struct {
	store.Store
	dialect store.Dialect
	sqlDB   *sql.DB
	pool    *pgxpool.Pool
	schema  string // postgres only
}

func (s *testStore) Dialect() store.Dialect { return s.dialect }

func (s *testStore) Driver() any {
	if s.dialect == store.DialectSQLite {
		return s.sqlDB
	}
	return s.pool
}

// InTx mirrors store.Store.InTx over the raw handle.
func (s *testStore) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	if s.dialect == store.DialectSQLite {
		tx, err := s.sqlDB.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if err := fn(ctx, &testTx{driver: tx}); err != nil {
			_ = tx.Rollback()
			return err
		}
		return tx.Commit()
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return fn(ctx, &testTx{driver: tx})
	})
}

// exec runs one statement outside any transaction.
func (s *testStore) exec(t testing.TB, query string, args ...any) {
	t.Helper()
	var err error
	if s.dialect == store.DialectSQLite {
		_, err = s.sqlDB.ExecContext(context.Background(), query, args...)
	} else {
		_, err = s.pool.Exec(context.Background(), query, args...)
	}
	require.NoError(t, err)
}

// count runs a count(*) query.
func (s *testStore) count(t testing.TB, query string) int {
	t.Helper()
	var n int
	var err error
	if s.dialect == store.DialectSQLite {
		err = s.sqlDB.QueryRowContext(context.Background(), query).Scan(&n)
	} else {
		err = s.pool.QueryRow(context.Background(), query).Scan(&n)
	}
	require.NoError(t, err)
	return n
}

type testTx struct {
	store.Tx
	driver any
}

func (t *testTx) Driver() any { return t.driver }

// exec runs a statement in the transaction: the caller's own rows.
func (t *testTx) exec(ctx context.Context, query string) error {
	switch d := t.driver.(type) {
	case *sql.Tx:
		_, err := d.ExecContext(ctx, query)
		return err
	case pgx.Tx:
		_, err := d.Exec(ctx, query)
		return err
	}
	return fmt.Errorf("unexpected tx %T", t.driver)
}

// openSQLite opens a file database configured like the store's writer:
// WAL, busy_timeout, immediate transactions, and one connection.
func openSQLite(t testing.TB) *testStore {
	t.Helper()
	path := filepath.Join(t.TempDir(), "accord.db")
	// synchronous=NORMAL: tests need no fsync per commit.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	return &testStore{dialect: store.DialectSQLite, sqlDB: db}
}

// openPostgres creates a fresh schema and a pool whose search_path is it,
// or skips the test when ACCORD_TEST_POSTGRES is unset.
func openPostgres(t testing.TB) *testStore {
	t.Helper()
	dsn := os.Getenv("ACCORD_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("set ACCORD_TEST_POSTGRES=postgres://… to run the PostgreSQL tests")
	}
	ctx := context.Background()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "queue_test_" + hex.EncodeToString(b[:])

	admin, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	require.NoError(t, admin.Close(ctx))

	pcfg, err := pgxpool.ParseConfig(dsn)
	require.NoError(t, err)
	pcfg.ConnConfig.RuntimeParams["search_path"] = schema
	pcfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		pool.Close()
		admin, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			return
		}
		defer admin.Close(context.Background())
		_, _ = admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	return &testStore{dialect: store.DialectPostgres, pool: pool, schema: schema}
}

// dbs are the databases every queue test runs on.
var dbs = []struct {
	name string
	open func(testing.TB) *testStore
}{
	{"sqlite", openSQLite},
	{"postgres", openPostgres},
}

// eachDB runs fn as a parallel subtest on every database.
func eachDB(t *testing.T, fn func(t *testing.T, st *testStore)) {
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
func testConfig(st *testStore) *Config {
	return &Config{
		Workers:     true,
		MaxWorkers:  10,
		RetryPolicy: &Backoff{Base: time.Millisecond, Max: time.Millisecond},
		Schema:      st.schema,
		Logger:      slog.New(slog.DiscardHandler),
		testOnly:    true,
	}
}

// newTestQueue builds and migrates a Queue; a started Queue is stopped
// (hard) at the end of the test.
func newTestQueue(t testing.TB, st *testStore, reg *Registry, cfg *Config) *Queue {
	t.Helper()
	q, err := New(st, reg, cfg)
	require.NoError(t, err)
	require.NoError(t, q.Migrate(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if q.cfg.Workers {
			_ = q.b.stopAndCancel(ctx)
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
