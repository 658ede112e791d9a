package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/sqlite"
	"github.com/accordhq/accord/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		return sqlite.OpenTestConfig(t, &sqlite.Config{Now: now})
	})
}

func TestOpenPragmas(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  *sqlite.Config
		sync string
	}{
		{"defaults are durable", nil, "2"},
		{"normal when asked", &sqlite.Config{Synchronous: sqlite.SynchronousNormal}, "1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"), tc.cfg)
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Close() })
			db := s.Driver().(*sql.DB)
			for pragma, want := range map[string]string{
				"journal_mode": "wal", "busy_timeout": "5000", "foreign_keys": "1", "synchronous": tc.sync,
			} {
				var got string
				require.NoError(t, db.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got))
				require.Equal(t, want, got, pragma)
			}
			require.Equal(t, 1, db.Stats().MaxOpenConnections, "one writer")
		})
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	t.Parallel()
	_, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"),
		&sqlite.Config{Synchronous: "OFF"})
	require.ErrorContains(t, err, "synchronous")
}

func TestOpenRejectsNonFilePaths(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		_, err := sqlite.Open(context.Background(), path, nil)
		require.ErrorContains(t, err, "want a file path", path)
	}
}

func TestPathWithURICharacters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "we?ird#na%me 1.db")
	s, err := sqlite.Open(ctx, path, nil)
	require.NoError(t, err)
	require.NoError(t, s.Migrate(ctx))
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "one"}))
	require.NoError(t, s.Close())
	require.FileExists(t, path)

	s, err = sqlite.Open(ctx, path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	_, err = s.GetTenant(ctx, "t1")
	require.NoError(t, err, "data persisted in the named file")
}

func TestDataSurvivesReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.db")
	s, err := sqlite.Open(ctx, path, nil)
	require.NoError(t, err)
	require.NoError(t, s.Migrate(ctx))
	_, err = s.AppendAudit(ctx, store.AuditEntry{TenantID: "t1", Actor: "a", Action: "x"})
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "one"}))
	_, err = s.AppendAudit(ctx, store.AuditEntry{TenantID: "t1", Actor: "a", Action: "x"})
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s, err = sqlite.Open(ctx, path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	require.NoError(t, s.Migrate(ctx), "migrating an up-to-date file is a no-op")
	e, err := s.AppendAudit(ctx, store.AuditEntry{TenantID: "t1", Actor: "a", Action: "y"})
	require.NoError(t, err)
	require.Equal(t, int64(2), e.Seq, "the chain continues across restarts")
	var n int
	require.NoError(t, s.Driver().(*sql.DB).QueryRowContext(ctx, "SELECT count(*) FROM accord_migrations").Scan(&n))
	require.Equal(t, 6, n, "one row per migration")
}

// TestTxDriver: the queue inserts its jobs through Tx.Driver; what it writes
// there commits and rolls back with the store's rows.
func TestTxDriver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := sqlite.OpenTest(t)
	_, err := s.Driver().(*sql.DB).ExecContext(ctx, "CREATE TABLE jobs (id INTEGER PRIMARY KEY)")
	require.NoError(t, err)
	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.Driver().(*sql.Tx).ExecContext(ctx, "INSERT INTO jobs (id) VALUES (1)")
		require.NoError(t, err)
		return store.ErrConflict
	})
	require.ErrorIs(t, err, store.ErrConflict)
	var n int
	require.NoError(t, s.Driver().(*sql.DB).QueryRowContext(ctx, "SELECT count(*) FROM jobs").Scan(&n))
	require.Zero(t, n)
}
