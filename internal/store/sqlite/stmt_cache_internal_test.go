package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// TestStatementsBeforeMigrate: a statement that fails to prepare (its
// table does not exist yet) is not cached as failed; after Migrate the same
// Store works, inside transactions too.
func TestStatementsBeforeMigrate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "a.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	key := store.LinkKey{TenantID: "t1", InstallationID: "i1", SourceObject: "ticket", SourceID: "T-1",
		TargetObject: "incident"}

	_, err = s.GetLink(ctx, key)
	require.ErrorContains(t, err, "no such table")
	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.GetLink(ctx, key)
		return err
	})
	require.ErrorContains(t, err, "no such table")

	require.NoError(t, s.Migrate(ctx))
	_, err = s.GetLink(ctx, key)
	require.ErrorIs(t, err, store.ErrNotFound)
	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.GetLink(ctx, key)
		return err
	})
	require.ErrorIs(t, err, store.ErrNotFound)
	require.True(t, s.writerStmts.warmed.Load(), "warmed once the tables exist")
}

// TestTxWithColdCache: a transaction whose statement is not in the writer's
// cache must not prepare it on the writer, whose one connection it holds
// (that would wait forever); it prepares its own.
func TestTxWithColdCache(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := OpenTest(t)
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "n"}))

	sqlTx, err := s.writer.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer sqlTx.Rollback() //nolint:errcheck
	conn := newTxConn(sqlTx, newStmtCache(s.writer))
	q := queries{read: conn, write: conn, now: time.Now}
	ok, err := q.AcquireLease(ctx, "t1", "k", "a", time.Minute)
	require.NoError(t, err, "no deadlock on the writer")
	require.True(t, ok)
	ok, err = q.AcquireLease(ctx, "t1", "k", "b", time.Minute)
	require.NoError(t, err)
	require.False(t, ok, "the transaction's own statement, reused")
	require.NoError(t, sqlTx.Commit())
}
