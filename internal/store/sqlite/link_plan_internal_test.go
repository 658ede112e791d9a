package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLinksByTargetUsesItsIndex: SQLite has no statistics here, and left
// to itself it answers ListLinksByTarget from the primary key (its order
// matches the ORDER BY), scanning every link of the installation per call:
// a reconciliation of 5,000 pairs took 23 s instead of 0.7 s.
func TestLinksByTargetUsesItsIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "a.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	require.NoError(t, s.Migrate(ctx))

	// The statement ListLinksByTarget prepares, as the reader caches it.
	_, err = s.ListLinksByTarget(ctx, "t1", "i1", "crm.account", "1")
	require.NoError(t, err)
	var query string
	s.readerStmts.mu.RLock()
	for q := range s.readerStmts.m {
		if strings.Contains(q, "target_object = ? AND target_id = ?") {
			query = q
		}
	}
	s.readerStmts.mu.RUnlock()
	require.NotEmpty(t, query)
	rows, err := s.reader.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, "t1", "i1", "crm.account", "1")
	require.NoError(t, err)
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		plan.WriteString(detail + "\n")
	}
	require.NoError(t, rows.Err())
	require.Contains(t, plan.String(), "USING INDEX links_target (tenant_id=? AND installation_id=? AND target_object=? AND target_id=?)")
}
