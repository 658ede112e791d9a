package sqlite

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// TestEventStateMigration: events stored before migration 0003 each came
// with their delivery job, so they become queued, not pending (the sweeper
// would queue the whole history again); new events default to pending.
func TestEventStateMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storeBefore(t, 3,
		`INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'n', 0)`,
		`INSERT INTO connections (tenant_id, id, provider, state, created_at, updated_at)
			VALUES ('t1', 'c1', 'p', 'active', 0, 0)`,
		`INSERT INTO events (tenant_id, id, connection_id, dedup_key, type, object_id, object_version, received_at)
			VALUES ('t1', 'evt_old', 'c1', 'd', 'x', 'o', 1, 0)`,
	)

	require.NoError(t, s.Migrate(ctx))
	got, err := s.GetEvent(ctx, "t1", "evt_old")
	require.NoError(t, err)
	require.Equal(t, store.EventQueued, got.State)
	_, err = s.writer.ExecContext(ctx,
		`INSERT INTO events (tenant_id, id, connection_id, dedup_key, type, object_id, object_version, received_at)
			VALUES ('t1', 'evt_new', 'c1', 'd2', 'x', 'o', 2, 0)`)
	require.NoError(t, err)
	got, err = s.GetEvent(ctx, "t1", "evt_new")
	require.NoError(t, err)
	require.Equal(t, store.EventPending, got.State, "the column's default")
}

// TestEventStatePlans: the sweeper's scan reads only the partial index of
// pending events, and a batch state change probes the primary key per ref
// instead of scanning the table.
func TestEventStatePlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := OpenTest(t)
	tests := []struct {
		query string
		args  []any
		want  string
	}{
		{listPendingEventsSQL, []any{0, 10}, "USING INDEX events_pending"},
		{setEventsStateSQL, []any{store.EventDone, 2, "[]", 0}, "INDEX sqlite_autoindex_events_1 (tenant_id=? AND id=?)"},
		{claimPendingEventsSQL, []any{0, 10}, "USING INDEX events_pending"},
		{deleteDoneEventsSQL, []any{0, 10}, "USING INDEX events_done"},
		{listUncertainLinksSQL, []any{0, 10}, "USING INDEX links_uncertain"},
	}
	for _, tc := range tests {
		rows, err := s.writer.QueryContext(ctx, "EXPLAIN QUERY PLAN "+tc.query, tc.args...)
		require.NoError(t, err)
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
			plan = append(plan, detail)
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		joined := strings.Join(plan, "\n")
		require.Contains(t, joined, tc.want)
		require.NotContains(t, joined, "SCAN events", "no full scan")
		require.NotContains(t, joined, "SCAN links", "no full scan")
	}
}
