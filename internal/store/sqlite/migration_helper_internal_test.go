package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store/sqlmigrate"
)

// storeBefore opens a fresh store migrated only up to (not including)
// migration version, then runs seed against it, so a test can apply the
// rest with Migrate and check what an upgrade does to rows written before.
func storeBefore(t *testing.T, version int, seed ...string) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "a.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	ms, err := sqlmigrate.Load(migrationFS, "migrations")
	require.NoError(t, err)
	var before []sqlmigrate.Migration
	for _, m := range ms {
		if m.Version < version {
			before = append(before, m)
		}
	}
	require.NoError(t, sqlmigrate.Apply(ctx, migrator{s.writer}, before, s.migrateConfig()))
	for _, q := range seed {
		_, err := s.writer.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	return s
}
