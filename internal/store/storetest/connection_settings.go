package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// testConnectionSettings: settings are stored on create, read back by
// every read, and left alone by updates (even one whose struct has none).
func testConnectionSettings(t *testing.T, s store.Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "one"}))
	settings := map[string]string{"subdomain": "acme", "from_email": "oncall@example.com"}
	require.NoError(t, s.CreateConnection(ctx, store.Connection{TenantID: "t1", ID: "conn_s", Provider: "zendesk",
		State: store.ConnectionActive, Settings: settings}))
	require.NoError(t, s.CreateConnection(ctx, store.Connection{TenantID: "t1", ID: "conn_none", Provider: "crm",
		State: store.ConnectionActive}))

	c, err := s.GetConnection(ctx, "t1", "conn_s")
	require.NoError(t, err)
	require.Equal(t, settings, c.Settings)
	looked, err := s.LookupConnection(ctx, "conn_s")
	require.NoError(t, err)
	require.Equal(t, settings, looked.Settings)
	all, err := s.ListConnections(ctx, "t1")
	require.NoError(t, err)
	require.Len(t, all, 2)
	none, err := s.GetConnection(ctx, "t1", "conn_none")
	require.NoError(t, err)
	require.Nil(t, none.Settings, "no settings read back as none")

	c.Settings = nil
	c.StateReason = "rebuilt without settings"
	require.NoError(t, s.UpdateConnection(ctx, c))
	c, err = s.GetConnection(ctx, "t1", "conn_s")
	require.NoError(t, err)
	require.Equal(t, settings, c.Settings, "an update does not wipe settings")
}
