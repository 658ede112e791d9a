package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

func testTenants(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.GetTenant(ctx, "t1")
	require.ErrorIs(t, err, store.ErrNotFound)

	b := store.Tenant{ID: "tb", Name: "Beta", CreatedAt: at(time.Minute)}
	a := store.Tenant{ID: "ta", Name: "Alpha", CreatedAt: at(0)}
	require.NoError(t, s.CreateTenant(ctx, b))
	require.NoError(t, s.CreateTenant(ctx, a))
	require.ErrorIs(t, s.CreateTenant(ctx, store.Tenant{ID: "ta", Name: "again"}), store.ErrConflict)

	got, err := s.GetTenant(ctx, "ta")
	require.NoError(t, err)
	require.Equal(t, store.Tenant{ID: "ta", Name: "Alpha", CreatedAt: norm(a.CreatedAt)}, got)

	list, err := s.ListTenants(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, []string{"ta", "tb"}, []string{list[0].ID, list[1].ID}, "ordered by id")
	require.Equal(t, "Beta", list[1].Name)
	require.Equal(t, norm(b.CreatedAt), list[1].CreatedAt)
}

func testConnections(t *testing.T, s store.Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "one"}))
	c := store.Connection{
		TenantID: "t1", ID: "conn_a", Provider: "helpdesk", State: store.ConnectionMissingScopes,
		StateReason: "grant tickets:write", Secret: []byte{0, 1, 2, 3, 0xfe, 0xff},
		GrantedScopes:  []string{"tickets:read", "users:read"},
		TokenExpiresAt: at(time.Hour), CreatedAt: at(0), UpdatedAt: at(time.Second),
	}
	require.NoError(t, s.CreateConnection(ctx, c))
	want := c
	want.TokenExpiresAt, want.CreatedAt, want.UpdatedAt = norm(c.TokenExpiresAt), norm(c.CreatedAt), norm(c.UpdatedAt)
	want.Version = 1

	got, err := s.GetConnection(ctx, "t1", "conn_a")
	require.NoError(t, err)
	require.Equal(t, want, got, "every field round-trips")

	got, err = s.LookupConnection(ctx, "conn_a")
	require.NoError(t, err)
	require.Equal(t, want, got, "lookup by id alone finds the tenant")

	_, err = s.LookupConnection(ctx, "conn_missing")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.GetConnection(ctx, "t1", "conn_missing")
	require.ErrorIs(t, err, store.ErrNotFound)

	require.ErrorIs(t, s.CreateConnection(ctx, c), store.ErrConflict)
	orphan := c
	orphan.TenantID, orphan.ID = "no_such_tenant", "conn_orphan"
	require.ErrorIs(t, s.CreateConnection(ctx, orphan), store.ErrNotFound, "a connection needs its tenant")

	// A zero TokenExpiresAt and no scopes round-trip as zero and empty.
	c2 := store.Connection{TenantID: "t1", ID: "conn_b", Provider: "crm", State: store.ConnectionActive,
		CreatedAt: at(time.Minute)}
	require.NoError(t, s.CreateConnection(ctx, c2))
	got, err = s.GetConnection(ctx, "t1", "conn_b")
	require.NoError(t, err)
	require.True(t, got.TokenExpiresAt.IsZero())
	require.Empty(t, got.GrantedScopes)
	require.Empty(t, got.Secret)
	require.Equal(t, norm(c2.CreatedAt), got.UpdatedAt, "UpdatedAt defaults to CreatedAt")

	list, err := s.ListConnections(ctx, "t1")
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, "conn_a", list[0].ID)
	require.Equal(t, want, list[0])

	upd := want
	upd.State = store.ConnectionNeedsReconnect
	upd.StateReason = "refresh token revoked"
	upd.Secret = []byte("new-ciphertext")
	upd.GrantedScopes = []string{"tickets:read"}
	upd.TokenExpiresAt = time.Time{}
	upd.Provider = "ignored"            // not an updatable field
	upd.CreatedAt = at(100 * time.Hour) // not an updatable field
	require.NoError(t, s.UpdateConnection(ctx, upd))
	got, err = s.GetConnection(ctx, "t1", "conn_a")
	require.NoError(t, err)
	require.Equal(t, store.ConnectionNeedsReconnect, got.State)
	require.Equal(t, "refresh token revoked", got.StateReason)
	require.Equal(t, []byte("new-ciphertext"), got.Secret)
	require.Equal(t, []string{"tickets:read"}, got.GrantedScopes)
	require.True(t, got.TokenExpiresAt.IsZero(), "expiry cleared")
	require.Equal(t, "helpdesk", got.Provider)
	require.Equal(t, want.CreatedAt, got.CreatedAt)
	require.NotEqual(t, want.UpdatedAt, got.UpdatedAt, "UpdatedAt bumped")

	missing := upd
	missing.ID = "conn_missing"
	require.ErrorIs(t, s.UpdateConnection(ctx, missing), store.ErrNotFound)
}

func testInstallations(t *testing.T, s store.Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "one"}))
	in := store.Installation{
		TenantID: "t1", ID: "inst_a", Contract: "escalation", ContractVersion: "3",
		State:       store.InstallationSetup,
		Connections: map[string]string{"helpdesk": "conn_h", "incident": "conn_i"},
		Config:      json.RawMessage(`{"priority_map":{"urgent":"P1"},"n":[1,2.5]}`),
		CreatedAt:   at(0), UpdatedAt: at(time.Second),
	}
	require.NoError(t, s.CreateInstallation(ctx, in))
	require.ErrorIs(t, s.CreateInstallation(ctx, in), store.ErrConflict)

	got, err := s.GetInstallation(ctx, "t1", "inst_a")
	require.NoError(t, err)
	requireJSONEq(t, in.Config, got.Config, "config")
	want := in
	want.CreatedAt, want.UpdatedAt = norm(in.CreatedAt), norm(in.UpdatedAt)
	want.Config, got.Config = nil, nil
	require.Equal(t, want, got)

	other := store.Installation{TenantID: "t1", ID: "inst_b", Contract: "renewal", ContractVersion: "1",
		State: store.InstallationActive, Connections: map[string]string{"crm": "conn_i"}, CreatedAt: at(time.Minute)}
	third := store.Installation{TenantID: "t1", ID: "inst_c", Contract: "sync", ContractVersion: "1",
		State: store.InstallationActive, Connections: map[string]string{"crm": "conn_x"}, CreatedAt: at(2 * time.Minute)}
	require.NoError(t, s.CreateInstallation(ctx, other))
	require.NoError(t, s.CreateInstallation(ctx, third))

	list, err := s.ListInstallations(ctx, "t1")
	require.NoError(t, err)
	require.Equal(t, []string{"inst_a", "inst_b", "inst_c"}, installationIDs(list))
	require.Empty(t, list[2].Config)

	byConn, err := s.ListInstallationsByConnection(ctx, "t1", "conn_i")
	require.NoError(t, err)
	require.Equal(t, []string{"inst_a", "inst_b"}, installationIDs(byConn), "matched under any provider name")
	byConn, err = s.ListInstallationsByConnection(ctx, "t1", "helpdesk")
	require.NoError(t, err)
	require.Empty(t, byConn, "provider names are not connection ids")

	require.NoError(t, s.SetInstallationState(ctx, "t1", "inst_a", store.InstallationPaused))
	got, err = s.GetInstallation(ctx, "t1", "inst_a")
	require.NoError(t, err)
	require.Equal(t, store.InstallationPaused, got.State)
	require.NotEqual(t, want.UpdatedAt, got.UpdatedAt, "UpdatedAt bumped")
	require.ErrorIs(t, s.SetInstallationState(ctx, "t1", "inst_missing", store.InstallationPaused), store.ErrNotFound)
	_, err = s.GetInstallation(ctx, "t1", "inst_missing")
	require.ErrorIs(t, err, store.ErrNotFound)

	// An upgrade pins another contract version; nothing else changes.
	require.NoError(t, s.SetInstallationContractVersion(ctx, "t1", "inst_a", "2.0.0"))
	up, err := s.GetInstallation(ctx, "t1", "inst_a")
	require.NoError(t, err)
	require.Equal(t, "2.0.0", up.ContractVersion)
	require.Equal(t, store.InstallationPaused, up.State)
	require.ErrorIs(t, s.SetInstallationContractVersion(ctx, "t2", "inst_a", "2.0.0"), store.ErrNotFound, "another tenant's")

	// Overrides are kept as given, replaced whole, and cleared with nil;
	// listings carry them (the engine reads them from there).
	require.Empty(t, up.Overrides, "none until set")
	ov := `{"fields":{"create_incident.severity":{"value":1}},"disabled_triggers":["nightly"]}`
	require.NoError(t, s.SetInstallationOverrides(ctx, "t1", "inst_a", json.RawMessage(ov)))
	got, err = s.GetInstallation(ctx, "t1", "inst_a")
	require.NoError(t, err)
	require.JSONEq(t, ov, string(got.Overrides))
	require.Equal(t, "2.0.0", got.ContractVersion, "nothing else changes")
	byConn, err = s.ListInstallationsByConnection(ctx, "t1", "conn_i")
	require.NoError(t, err)
	require.JSONEq(t, ov, string(byConn[0].Overrides))
	require.NoError(t, s.SetInstallationOverrides(ctx, "t1", "inst_a", nil))
	got, err = s.GetInstallation(ctx, "t1", "inst_a")
	require.NoError(t, err)
	require.Empty(t, got.Overrides)
	require.ErrorIs(t, s.SetInstallationOverrides(ctx, "t2", "inst_a", json.RawMessage(ov)), store.ErrNotFound, "another tenant's")
	require.ErrorIs(t, s.SetInstallationOverrides(ctx, "t1", "inst_missing", nil), store.ErrNotFound)

	// Created with overrides (the setup wizard's installation).
	withOv := store.Installation{TenantID: "t1", ID: "inst_ov", Contract: "escalation", ContractVersion: "1.0.0",
		State: store.InstallationPaused, Connections: map[string]string{"helpdesk": "conn_i"}, Overrides: json.RawMessage(ov)}
	require.NoError(t, s.CreateInstallation(ctx, withOv))
	got, err = s.GetInstallation(ctx, "t1", "inst_ov")
	require.NoError(t, err)
	require.JSONEq(t, ov, string(got.Overrides))
}

func installationIDs(list []store.Installation) []string {
	var ids []string
	for _, in := range list {
		ids = append(ids, in.ID)
	}
	return ids
}
