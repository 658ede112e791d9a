package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// testSyncStates: a sync's state is stored whole, per trigger; a page's
// state and events commit together or not at all; a deleted installation
// takes its sync states with it.
func testSyncStates(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	seed(t, s, "t2")
	_, err := s.GetSyncState(ctx, "t1", f.inst.ID, "customers")
	require.ErrorIs(t, err, store.ErrNotFound)

	st := store.SyncState{TenantID: "t1", InstallationID: f.inst.ID, Trigger: "customers", Running: true, Cursor: "cus_0050",
		RunSince: 1_700_000_000, RunMax: 1_700_000_100, RunStartedAt: at(time.Minute), RunRecords: 50, RunEvents: 7,
		Watermark: 1_699_999_000, HasWatermark: true, Runs: 3, LastCompletedAt: at(30 * time.Second), LastError: "",
		NextRunAt: at(2 * time.Minute), UpdatedAt: at(time.Minute)}
	require.NoError(t, s.PutSyncState(ctx, st))
	got, err := s.GetSyncState(ctx, "t1", f.inst.ID, "customers")
	require.NoError(t, err)
	require.Equal(t, normSync(st), got)

	st.Running, st.Cursor, st.LastError, st.NextRunAt = false, "", "partner answered 503", time.Time{}
	require.NoError(t, s.PutSyncState(ctx, st), "a second put replaces the first")
	got, err = s.GetSyncState(ctx, "t1", f.inst.ID, "customers")
	require.NoError(t, err)
	require.Equal(t, normSync(st), got)

	_, err = s.GetSyncState(ctx, "t2", f.inst.ID, "customers")
	require.ErrorIs(t, err, store.ErrNotFound, "another tenant sees nothing")

	// A page's events and its state commit together or not at all.
	boom := errors.New("crash between the events and the state")
	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.InsertEvent(ctx, store.Event{TenantID: "t1", ID: "ev_sync", ConnectionID: f.conn.ID, DedupKey: "sync/1",
			Type: "accord.sync/customer", ObjectID: "cus_1", Payload: []byte(`{}`), ReceivedAt: at(time.Minute)})
		require.NoError(t, err)
		next := st
		next.Cursor = "cus_0100"
		require.NoError(t, tx.PutSyncState(ctx, next))
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, err = s.GetSyncState(ctx, "t1", f.inst.ID, "customers")
	require.NoError(t, err)
	require.Equal(t, "", got.Cursor, "the rolled-back page left the cursor where it was")
	_, err = s.GetEvent(ctx, "t1", "ev_sync")
	require.ErrorIs(t, err, store.ErrNotFound)

	other := store.SyncState{TenantID: "t1", InstallationID: f.inst.ID, Trigger: "accounts", UpdatedAt: at(time.Minute)}
	require.NoError(t, s.PutSyncState(ctx, other))
	list, err := s.ListSyncStates(ctx, "t1", f.inst.ID)
	require.NoError(t, err)
	require.Equal(t, []store.SyncState{normSync(other), normSync(st)}, list, "by trigger name")

	require.NoError(t, s.DeleteInstallation(ctx, "t1", f.inst.ID))
	list, err = s.ListSyncStates(ctx, "t1", f.inst.ID)
	require.NoError(t, err)
	require.Empty(t, list, "an installation's sync states go with it")
}

func normSync(s store.SyncState) store.SyncState {
	for _, ts := range []*time.Time{&s.RunStartedAt, &s.LastCompletedAt, &s.NextRunAt, &s.UpdatedAt} {
		if !ts.IsZero() {
			*ts = norm(*ts)
		}
	}
	return s
}

// testReconciliations: an installation keeps its latest reconciliation
// report, and loses it with the installation.
func testReconciliations(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	_, err := s.GetReconciliation(ctx, "t1", f.inst.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	r := store.Reconciliation{TenantID: "t1", InstallationID: f.inst.ID, StartedAt: at(time.Minute), Report: []byte(`{"complete":false}`)}
	require.NoError(t, s.PutReconciliation(ctx, r))
	got, err := s.GetReconciliation(ctx, "t1", f.inst.ID)
	require.NoError(t, err)
	require.True(t, got.FinishedAt.IsZero(), "running")
	requireJSONEq(t, r.Report, got.Report, "report")

	r.FinishedAt, r.Report = at(2*time.Minute), []byte(`{"complete":true,"objects":[{"object":"crm.company","listed":3}]}`)
	require.NoError(t, s.PutReconciliation(ctx, r))
	got, err = s.GetReconciliation(ctx, "t1", f.inst.ID)
	require.NoError(t, err)
	require.Equal(t, norm(at(2*time.Minute)), got.FinishedAt)
	requireJSONEq(t, r.Report, got.Report, "replaced")
	_, err = s.GetReconciliation(ctx, "t2", f.inst.ID)
	require.ErrorIs(t, err, store.ErrNotFound, "another tenant")

	require.NoError(t, s.DeleteInstallation(ctx, "t1", f.inst.ID))
	_, err = s.GetReconciliation(ctx, "t1", f.inst.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
}
