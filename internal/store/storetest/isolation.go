package storetest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// testTenantIsolation gives two tenants the same kinds of rows and checks
// that asking with one tenant's id never reaches the other's.
func testTenantIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := seed(t, s, "ta")
	b := seed(t, s, "tb")
	for _, f := range []fixture{a, b} {
		id := f.tenant.ID
		_, err := s.InsertEvent(ctx, store.Event{TenantID: id, ID: "evt_" + id, ConnectionID: f.conn.ID,
			DedupKey: "d", Type: "x"})
		require.NoError(t, err)
		require.NoError(t, s.UpsertLink(ctx, store.Link{LinkKey: store.LinkKey{TenantID: id,
			InstallationID: f.inst.ID, SourceObject: "ticket", SourceID: "T-1", TargetObject: "incident"},
			TargetID: "INC-" + id}))
		require.NoError(t, s.InsertRecordError(ctx, store.RecordError{TenantID: id, ID: "re_" + id,
			InstallationID: f.inst.ID, Object: "ticket", SourceID: "T-1", Class: "auth",
			Status: store.RecordErrorOpen}))
		require.NoError(t, s.PutDataKey(ctx, store.DataKey{TenantID: id, MasterKeyID: "mk", Wrapped: []byte(id)}))
		_, err = s.AppendAudit(ctx, store.AuditEntry{TenantID: id, Actor: "a", Action: "x", Subject: id,
			Detail: json.RawMessage(`{}`)})
		require.NoError(t, err)
	}

	// Tenant b asks for tenant a's rows by their ids.
	_, err := s.GetConnection(ctx, "tb", a.conn.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.GetInstallation(ctx, "tb", a.inst.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.GetEvent(ctx, "tb", "evt_ta")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.GetLink(ctx, store.LinkKey{TenantID: "tb", InstallationID: a.inst.ID, SourceObject: "ticket",
		SourceID: "T-1", TargetObject: "incident"})
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.GetRecordError(ctx, "tb", "re_ta")
	require.ErrorIs(t, err, store.ErrNotFound)

	// Writes addressed with the wrong tenant change nothing.
	hijack := a.conn
	hijack.TenantID = "tb"
	hijack.State = store.ConnectionDisconnected
	require.ErrorIs(t, s.UpdateConnection(ctx, hijack), store.ErrNotFound)
	require.ErrorIs(t, s.SetInstallationState(ctx, "tb", a.inst.ID, store.InstallationUninstalled), store.ErrNotFound)
	require.ErrorIs(t, s.SetRecordErrorStatus(ctx, "tb", "re_ta", store.RecordErrorResolved), store.ErrNotFound)
	conn, err := s.GetConnection(ctx, "ta", a.conn.ID)
	require.NoError(t, err)
	require.Equal(t, store.ConnectionActive, conn.State)
	inst, err := s.GetInstallation(ctx, "ta", a.inst.ID)
	require.NoError(t, err)
	require.Equal(t, store.InstallationActive, inst.State)
	re, err := s.GetRecordError(ctx, "ta", "re_ta")
	require.NoError(t, err)
	require.Equal(t, store.RecordErrorOpen, re.Status)

	// Lists only ever hold the asking tenant's rows.
	conns, err := s.ListConnections(ctx, "tb")
	require.NoError(t, err)
	require.Len(t, conns, 1)
	require.Equal(t, "tb", conns[0].TenantID)
	insts, err := s.ListInstallations(ctx, "tb")
	require.NoError(t, err)
	require.Len(t, insts, 1)
	require.Equal(t, "tb", insts[0].TenantID)
	byConn, err := s.ListInstallationsByConnection(ctx, "tb", a.conn.ID)
	require.NoError(t, err)
	require.Empty(t, byConn)
	res, err := s.ListRecordErrors(ctx, "tb", store.RecordErrorFilter{InstallationID: a.inst.ID})
	require.NoError(t, err)
	require.Empty(t, res)
	res, err = s.ListRecordErrors(ctx, "tb", store.RecordErrorFilter{})
	require.NoError(t, err)
	require.Len(t, res, 1)
	require.Equal(t, "tb", res[0].TenantID)
	audit, err := s.ListAudit(ctx, "tb", 0, 100)
	require.NoError(t, err)
	require.Len(t, audit, 1)
	require.Equal(t, "tb", audit[0].TenantID)
	key, err := s.GetDataKey(ctx, "tb")
	require.NoError(t, err)
	require.Equal(t, []byte("tb"), key.Wrapped)

	// The same dedup key in two tenants is two events.
	for _, f := range []fixture{a, b} {
		ev, err := s.GetEvent(ctx, f.tenant.ID, "evt_"+f.tenant.ID)
		require.NoError(t, err)
		require.Equal(t, f.tenant.ID, ev.TenantID)
	}

	// An OAuth state carries its tenant through the callback.
	require.NoError(t, s.CreateOAuthState(ctx, store.OAuthState{State: "st_b", TenantID: "tb", Provider: "crm",
		ExpiresAt: at(0)}))
	st, err := s.ConsumeOAuthState(ctx, "st_b")
	require.NoError(t, err)
	require.Equal(t, "tb", st.TenantID)
}
