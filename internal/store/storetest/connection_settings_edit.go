package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// testConnectionSettingsEdit: settings are replaced whole, in a
// transaction or not, and the version moves (a refresh that read the old
// row does not swap over the edit); an unknown connection is not found,
// another tenant's is not touched.
func testConnectionSettingsEdit(t *testing.T, s store.Store) {
	ctx := context.Background()
	seed(t, s, "t1")
	seed(t, s, "t2")
	require.NoError(t, s.CreateConnection(ctx, store.Connection{TenantID: "t1", ID: "conn_s", Provider: "zendesk",
		State: store.ConnectionActive, Settings: map[string]string{"subdomain": "acme", "email": "a@example.com"}}))
	before, err := s.GetConnection(ctx, "t1", "conn_s")
	require.NoError(t, err)

	require.NoError(t, s.SetConnectionSettings(ctx, "t1", "conn_s", map[string]string{"subdomain": "newco"}))
	after, err := s.GetConnection(ctx, "t1", "conn_s")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"subdomain": "newco"}, after.Settings)
	require.Greater(t, after.Version, before.Version)
	swapped, err := s.SwapConnection(ctx, before)
	require.NoError(t, err)
	require.False(t, swapped, "a write from before the edit does not land")

	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.SetConnectionSettings(ctx, "t1", "conn_s", nil)
	})
	require.NoError(t, err)
	after, err = s.GetConnection(ctx, "t1", "conn_s")
	require.NoError(t, err)
	require.Empty(t, after.Settings)

	require.ErrorIs(t, s.SetConnectionSettings(ctx, "t2", "conn_s", map[string]string{"subdomain": "evil"}), store.ErrNotFound)
	require.ErrorIs(t, s.SetConnectionSettings(ctx, "t1", "conn_nope", nil), store.ErrNotFound)
}
