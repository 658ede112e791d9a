package sqlite

import (
	"context"
	"database/sql"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCheckPragmasCatchesIgnoredPragma: SQLite keeps an in-memory database
// out of WAL without an error; the read-back must catch that.
func TestCheckPragmasCatchesIgnoredPragma(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("sqlite", "file::memory:?_pragma=journal_mode(WAL)")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	err = checkPragmas(context.Background(), db, map[string]string{"journal_mode": "wal"})
	require.ErrorContains(t, err, `pragma journal_mode is "memory", want "wal"`)
}

// TestReaderIsReadOnly: reads outside a transaction use a pool that cannot
// write, so a stray write there fails loudly instead of racing the writer.
func TestReaderIsReadOnly(t *testing.T) {
	t.Parallel()
	s := OpenTest(t)
	_, err := s.reader.ExecContext(context.Background(), `INSERT INTO tenants (id, name, created_at) VALUES ('x', 'x', 0)`)
	require.Error(t, err)
	require.Contains(t, err.Error(), "readonly")
}
