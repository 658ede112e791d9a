package sqlite

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// TestLinkActionMigration: migration 0004 rebuilds links with the action in
// the key; a link stored before keeps its values under action "" and
// stays clean, and the foreign key to installations still holds.
func TestLinkActionMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storeBefore(t, 4,
		`INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'n', 0)`,
		`INSERT INTO installations (tenant_id, id, contract, contract_version, state, created_at, updated_at)
			VALUES ('t1', 'i1', 'c', '1', 'active', 0, 0)`,
		`INSERT INTO links (tenant_id, installation_id, source_object, source_id, target_object, target_id, version,
			fields, updated_at) VALUES ('t1', 'i1', 'ticket', 'T-1', 'incident', 'INC-1', 7, '{"a":1}', 5000)`,
	)

	require.NoError(t, s.Migrate(ctx))
	key := store.LinkKey{TenantID: "t1", InstallationID: "i1", SourceObject: "ticket", SourceID: "T-1",
		TargetObject: "incident"}
	got, err := s.GetLink(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "INC-1", got.TargetID)
	require.Equal(t, int64(7), got.Version)
	require.JSONEq(t, `{"a":1}`, string(got.Fields))
	require.False(t, got.Uncertain)

	orphan := store.Link{LinkKey: key, TargetID: "x", Version: 1}
	orphan.InstallationID = "i_missing"
	require.ErrorIs(t, s.UpsertLink(ctx, orphan), store.ErrNotFound, "the foreign key survived the rebuild")
	_, err = s.writer.ExecContext(ctx, `DELETE FROM installations WHERE tenant_id = 't1' AND id = 'i1'`)
	require.NoError(t, err)
	_, err = s.GetLink(ctx, key)
	require.ErrorIs(t, err, store.ErrNotFound, "and still cascades")
}
