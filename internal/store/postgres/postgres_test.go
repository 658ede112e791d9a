package postgres_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/postgres"
	"github.com/accordhq/accord/internal/store/storetest"
)

func testDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("ACCORD_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("set ACCORD_TEST_POSTGRES=postgres://… to run the PostgreSQL tests")
	}
	return dsn
}

func TestConformance(t *testing.T) {
	t.Parallel()
	dsn := testDSN(t)
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		return postgres.OpenTestSchemaConfig(t, dsn, &postgres.Config{Now: now})
	})
}

// TestSchemaIsolation: two test schemas in one database do not see each
// other, and River's tables (created by its migrator on the same pool) would
// land in the store's schema because every pooled connection has it as
// search_path.
func TestSchemaIsolation(t *testing.T) {
	t.Parallel()
	dsn := testDSN(t)
	ctx := context.Background()
	a := postgres.OpenTestSchema(t, dsn)
	b := postgres.OpenTestSchema(t, dsn)
	require.NoError(t, a.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "in a"}))
	_, err := b.GetTenant(ctx, "t1")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, b.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "in b"}), "same key, other schema")

	pool := a.Driver().(*pgxpool.Pool)
	var schema string
	require.NoError(t, pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema))
	require.Regexp(t, `^accord_test_[0-9a-f]{16}$`, schema)
	// Every connection of the pool, not just the first.
	conns := make([]*pgxpool.Conn, 3)
	for i := range conns {
		conns[i], err = pool.Acquire(ctx)
		require.NoError(t, err)
		var got string
		require.NoError(t, conns[i].QueryRow(ctx, "SELECT current_schema()").Scan(&got))
		require.Equal(t, schema, got)
	}
	for _, c := range conns {
		c.Release()
	}
}

func TestMigrateRecordsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := postgres.OpenTestSchema(t, testDSN(t))
	require.NoError(t, s.Migrate(ctx))
	var n int
	require.NoError(t, s.Driver().(*pgxpool.Pool).QueryRow(ctx, "SELECT count(*) FROM accord_migrations").Scan(&n))
	migrations, err := os.ReadDir("migrations")
	require.NoError(t, err)
	require.Equal(t, len(migrations), n, "one row per migration")
}

// TestEventStateMigration: events stored before migration 0003 each came
// with their delivery job, so they become queued, not pending (the sweeper
// would queue the whole history again); new events default to pending. The
// schema is taken back to before 0003 to replay it.
func TestEventStateMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := postgres.OpenTestSchema(t, testDSN(t))
	pool := s.Driver().(*pgxpool.Pool)
	for _, q := range []string{
		`DROP INDEX events_pending`,
		`ALTER TABLE events DROP COLUMN state`,
		`DELETE FROM accord_migrations WHERE version = 3`,
		`INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'n', now())`,
		`INSERT INTO connections (tenant_id, id, provider, state, created_at, updated_at)
			VALUES ('t1', 'c1', 'p', 'active', now(), now())`,
		`INSERT INTO events (tenant_id, id, connection_id, dedup_key, type, object_id, object_version, received_at)
			VALUES ('t1', 'evt_old', 'c1', 'd', 'x', 'o', 1, now())`,
	} {
		_, err := pool.Exec(ctx, q)
		require.NoError(t, err, q)
	}

	require.NoError(t, s.Migrate(ctx))
	got, err := s.GetEvent(ctx, "t1", "evt_old")
	require.NoError(t, err)
	require.Equal(t, store.EventQueued, got.State)
	_, err = pool.Exec(ctx,
		`INSERT INTO events (tenant_id, id, connection_id, dedup_key, type, object_id, object_version, received_at)
			VALUES ('t1', 'evt_new', 'c1', 'd2', 'x', 'o', 2, now())`)
	require.NoError(t, err)
	got, err = s.GetEvent(ctx, "t1", "evt_new")
	require.NoError(t, err)
	require.Equal(t, store.EventPending, got.State, "the column's default")
}

// TestTxDriver: the queue inserts its jobs through Tx.Driver; what it writes
// there commits and rolls back with the store's rows.
func TestTxDriver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := postgres.OpenTestSchema(t, testDSN(t))
	pool := s.Driver().(*pgxpool.Pool)
	_, err := pool.Exec(ctx, "CREATE TABLE jobs (id int PRIMARY KEY)")
	require.NoError(t, err)
	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.Driver().(pgx.Tx).Exec(ctx, "INSERT INTO jobs (id) VALUES (1)")
		require.NoError(t, err)
		return store.ErrConflict
	})
	require.ErrorIs(t, err, store.ErrConflict)
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM jobs").Scan(&n))
	require.Zero(t, n)
}

func TestOpenBadDSNDoesNotEchoPassword(t *testing.T) {
	t.Parallel()
	_, err := postgres.Open(context.Background(), "postgres://u:s3cret@127.0.0.1:5432/db?sslmode=bogus", nil)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cret")
}

// TestStatementCache: a hot query is prepared once per connection and
// reused (pgx's default exec mode), not parsed and planned on every call.
func TestStatementCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// One connection, so every call below runs on the one inspected after.
	s := postgres.OpenTestSchemaConfig(t, testDSN(t), &postgres.Config{MaxConns: 1})
	pool := s.Driver().(*pgxpool.Pool)
	require.Equal(t, pgx.QueryExecModeCacheStatement, pool.Config().ConnConfig.DefaultQueryExecMode)

	key := store.LinkKey{TenantID: "t1", InstallationID: "i1", SourceObject: "ticket", SourceID: "T-1",
		TargetObject: "incident"}
	for range 3 {
		_, err := s.GetLink(ctx, key)
		require.ErrorIs(t, err, store.ErrNotFound)
	}
	var n int
	require.NoError(t, pool.QueryRow(ctx,
		`SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'SELECT tenant_id, installation_id, source_object,%FROM links%'`).Scan(&n))
	require.Equal(t, 1, n, "GetLink's statement prepared once on the connection")
}

// TestSynchronousCommit: every pooled session commits durably, even when
// the role's default says otherwise.
func TestSynchronousCommit(t *testing.T) {
	t.Parallel()
	dsn := testDSN(t)
	ctx := context.Background()
	s := postgres.OpenTestSchema(t, dsn)
	pool := s.Driver().(*pgxpool.Pool)
	conns := make([]*pgxpool.Conn, 3)
	for i := range conns {
		var err error
		conns[i], err = pool.Acquire(ctx)
		require.NoError(t, err)
		var got string
		require.NoError(t, conns[i].QueryRow(ctx, "SHOW synchronous_commit").Scan(&got))
		require.Equal(t, "on", got, "connection %d", i)
	}
	for _, c := range conns {
		c.Release()
	}

	// A DSN asking for off is overridden, not obeyed.
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	s2, err := postgres.Open(ctx, dsn+sep+"synchronous_commit=off", nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s2.Close() })
	var got string
	require.NoError(t, s2.Driver().(*pgxpool.Pool).QueryRow(ctx, "SHOW synchronous_commit").Scan(&got))
	require.Equal(t, "on", got)
}

// TestLinkActionMigration: migration 0004 puts the action in the links key;
// a link stored before keeps its values under action ” and stays clean.
// The schema is taken back to before 0004 to replay it.
func TestLinkActionMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := postgres.OpenTestSchema(t, testDSN(t))
	pool := s.Driver().(*pgxpool.Pool)
	for _, q := range []string{
		`DROP TABLE process_leases, api_tokens, ui_links, event_rollups`,
		`DROP INDEX events_health`,
		`DROP INDEX events_done, oauth_states_expires, leases_expires, leases_holder`,
		`ALTER TABLE events DROP COLUMN outcome`,
		`DROP INDEX links_uncertain`,
		`ALTER TABLE links DROP CONSTRAINT links_pkey`,
		`ALTER TABLE links DROP COLUMN action, DROP COLUMN uncertain, DROP COLUMN uncertain_since,
			DROP COLUMN event_id, DROP COLUMN event_at, DROP COLUMN etag`,
		`ALTER TABLE links ADD PRIMARY KEY (tenant_id, installation_id, source_object, source_id, target_object)`,
		`DELETE FROM accord_migrations WHERE version >= 4`,
		`INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'n', now())`,
		`INSERT INTO installations (tenant_id, id, contract, contract_version, state, created_at, updated_at)
			VALUES ('t1', 'i1', 'c', '1', 'active', now(), now())`,
		`INSERT INTO links (tenant_id, installation_id, source_object, source_id, target_object, target_id, version,
			fields, updated_at) VALUES ('t1', 'i1', 'ticket', 'T-1', 'incident', 'INC-1', 7, '{"a":1}', now())`,
	} {
		_, err := pool.Exec(ctx, q)
		require.NoError(t, err, q)
	}

	require.NoError(t, s.Migrate(ctx))
	key := store.LinkKey{TenantID: "t1", InstallationID: "i1", SourceObject: "ticket", SourceID: "T-1",
		TargetObject: "incident"}
	got, err := s.GetLink(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "INC-1", got.TargetID)
	require.Equal(t, int64(7), got.Version)
	require.False(t, got.Uncertain)
	other := key
	other.Action = "annotate"
	require.NoError(t, s.UpsertLink(ctx, store.Link{LinkKey: other, TargetID: "INC-2", Version: 1}),
		"another action is another link")
}

// TestLeasesCommitWithoutWaitingForTheFlush: object leases are
// coordination rows and go through their own pool with
// synchronous_commit=off (half the fsyncs per partner write); every other
// write stays synchronous.
func TestLeasesCommitWithoutWaitingForTheFlush(t *testing.T) {
	t.Parallel()
	s := postgres.OpenTestSchema(t, testDSN(t))
	ctx := context.Background()
	var got string
	require.NoError(t, s.Driver().(*pgxpool.Pool).QueryRow(ctx, "SHOW synchronous_commit").Scan(&got))
	require.Equal(t, "on", got, "data: synchronous")
	require.NoError(t, s.LeasePool().QueryRow(ctx, "SHOW synchronous_commit").Scan(&got))
	require.Equal(t, "off", got, "leases: asynchronous")
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "t"}))
	ok, err := s.AcquireLease(ctx, "t1", "object:x", "h1", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = s.AcquireLease(ctx, "t1", "object:x", "h2", time.Minute)
	require.NoError(t, err)
	require.False(t, ok, "visible at once to every session, as any commit")
}
