package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// testPurgeInstallation: an uninstall's purge deletes one installation's
// events, links and record errors batch by batch, then its rows, and
// leaves another tenant's (same ids) alone.
func testPurgeInstallation(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	other := seed(t, s, "t2")
	for _, fx := range []fixture{f, other} {
		for i := range 3 {
			_, err := s.InsertEvent(ctx, store.Event{TenantID: fx.tenant.ID, ID: fmtID("ev", i), ConnectionID: fx.conn.ID,
				DedupKey: fmtID("d", i), Type: "ticket.updated", ObjectID: "1", Payload: json.RawMessage(`{}`), ReceivedAt: at(time.Second)})
			require.NoError(t, err)
			require.NoError(t, s.UpsertLink(ctx, store.Link{LinkKey: store.LinkKey{TenantID: fx.tenant.ID, InstallationID: fx.inst.ID,
				SourceObject: "ticket", SourceID: fmtID("s", i), TargetObject: "incident"}, TargetID: "x", Version: 1}))
			require.NoError(t, s.InsertRecordError(ctx, store.RecordError{TenantID: fx.tenant.ID, ID: fmtID("re", i),
				InstallationID: fx.inst.ID, Class: "validation", Status: store.RecordErrorOpen}))
		}
	}
	n, err := s.DeleteEventsForConnection(ctx, "t1", f.conn.ID, 2)
	require.NoError(t, err)
	require.Equal(t, 2, n, "one batch")
	n, err = s.DeleteEventsForConnection(ctx, "t1", f.conn.ID, 2)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = s.DeleteLinksForInstallation(ctx, "t1", f.inst.ID, 0)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	n, err = s.DeleteRecordErrorsForInstallation(ctx, "t1", f.inst.ID, 0)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.NoError(t, s.DeleteInstallation(ctx, "t1", f.inst.ID))
	require.NoError(t, s.DeleteConnection(ctx, "t1", f.conn.ID))
	require.ErrorIs(t, s.DeleteInstallation(ctx, "t1", f.inst.ID), store.ErrNotFound)
	require.ErrorIs(t, s.DeleteConnection(ctx, "t1", f.conn.ID), store.ErrNotFound)
	_, err = s.GetEvent(ctx, "t1", "ev000")
	require.ErrorIs(t, err, store.ErrNotFound)

	// The other tenant keeps everything.
	_, err = s.GetEvent(ctx, "t2", "ev000")
	require.NoError(t, err)
	res, err := s.ListRecordErrors(ctx, "t2", store.RecordErrorFilter{})
	require.NoError(t, err)
	require.Len(t, res, 3)
	_, err = s.GetLink(ctx, store.LinkKey{TenantID: "t2", InstallationID: other.inst.ID, SourceObject: "ticket", SourceID: "s000", TargetObject: "incident"})
	require.NoError(t, err)
	_, err = s.GetInstallation(ctx, "t2", other.inst.ID)
	require.NoError(t, err)
}

func testUninstalls(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	u := store.Uninstall{TenantID: "t1", InstallationID: f.inst.ID, Contract: "escalation", Actor: "admin",
		State: store.UninstallRunning, Step: "stop_intake", PurgeAfter: at(time.Hour), CreatedAt: at(0)}
	require.NoError(t, s.CreateUninstall(ctx, u))
	require.ErrorIs(t, s.CreateUninstall(ctx, u), store.ErrConflict, "one per installation")
	got, err := s.GetUninstall(ctx, "t1", f.inst.ID)
	require.NoError(t, err)
	require.Equal(t, store.UninstallRunning, got.State)
	require.Equal(t, norm(at(time.Hour)), got.PurgeAfter)
	requireJSONEq(t, json.RawMessage(`[]`), got.Steps, "no step yet")

	got.State, got.Step, got.Steps = store.UninstallDone, "done", json.RawMessage(`[{"step":"stop_intake","count":1}]`)
	require.NoError(t, s.UpdateUninstall(ctx, got))
	got, err = s.GetUninstall(ctx, "t1", f.inst.ID)
	require.NoError(t, err)
	require.Equal(t, store.UninstallDone, got.State)
	requireJSONEq(t, json.RawMessage(`[{"step":"stop_intake","count":1}]`), got.Steps, "steps")

	// The uninstall outlives the installation row.
	require.NoError(t, s.DeleteInstallation(ctx, "t1", f.inst.ID))
	_, err = s.GetUninstall(ctx, "t1", f.inst.ID)
	require.NoError(t, err)
	_, err = s.GetUninstall(ctx, "t2", f.inst.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, s.UpdateUninstall(ctx, store.Uninstall{TenantID: "t1", InstallationID: "nope", PurgeAfter: at(0)}), store.ErrNotFound)
}

func testNotify(t *testing.T, s store.Store) {
	ctx := context.Background()
	seed(t, s, "t1")
	seed(t, s, "t2")
	e := store.NotifyEndpoint{TenantID: "t1", ID: "ep1", Kind: store.NotifyWebhook, URL: "http://127.0.0.1/x",
		EventTypes: []string{"connection.state_changed"}, Secret: []byte{1, 2}, CreatedAt: at(0)}
	require.NoError(t, s.CreateNotifyEndpoint(ctx, e))
	require.ErrorIs(t, s.CreateNotifyEndpoint(ctx, e), store.ErrConflict)
	require.NoError(t, s.CreateNotifyEndpoint(ctx, store.NotifyEndpoint{TenantID: "t1", ID: "ep2", Kind: store.NotifyRESTHook,
		URL: "http://127.0.0.1/y", Secret: []byte{3}, CreatedAt: at(time.Second)}))
	got, err := s.GetNotifyEndpoint(ctx, "t1", "ep1")
	require.NoError(t, err)
	require.Equal(t, []string{"connection.state_changed"}, got.EventTypes)
	require.Nil(t, got.PreviousSecret)
	require.True(t, got.PreviousExpiresAt.IsZero())
	_, err = s.GetNotifyEndpoint(ctx, "t2", "ep1")
	require.ErrorIs(t, err, store.ErrNotFound)

	got.Secret, got.PreviousSecret, got.PreviousExpiresAt = []byte{9}, []byte{1, 2}, at(time.Hour)
	require.NoError(t, s.UpdateNotifyEndpoint(ctx, got))
	list, err := s.ListNotifyEndpoints(ctx, "t1")
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, "ep1", list[0].ID)
	require.Equal(t, []byte{9}, list[0].Secret)
	require.Equal(t, []byte{1, 2}, list[0].PreviousSecret)
	require.Equal(t, norm(at(time.Hour)), list[0].PreviousExpiresAt)
	require.Empty(t, list[1].EventTypes)

	for i, ep := range []string{"ep1", "ep1", "ep2"} {
		require.NoError(t, s.InsertNotifyDelivery(ctx, store.NotifyDelivery{TenantID: "t1", ID: fmtID("msg", i), EndpointID: ep,
			EventType: "connection.state_changed", Payload: json.RawMessage(`{"a":1}`), CreatedAt: at(time.Duration(i) * time.Second)}))
	}
	claimed, err := s.ClaimNotifyDeliveries(ctx, 2)
	require.NoError(t, err)
	require.Len(t, claimed, 2, "oldest first")
	require.Equal(t, "msg000", claimed[0].ID)
	require.Equal(t, store.NotifyQueued, claimed[0].State)
	claimed, err = s.ClaimNotifyDeliveries(ctx, 0)
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	claimed, err = s.ClaimNotifyDeliveries(ctx, 0)
	require.NoError(t, err)
	require.Empty(t, claimed, "each delivery claimed once")

	d, err := s.GetNotifyDelivery(ctx, "t1", "msg000")
	require.NoError(t, err)
	d.State, d.Attempts, d.LastStatus, d.LastError = store.NotifyDelivered, 2, 204, ""
	require.NoError(t, s.UpdateNotifyDelivery(ctx, d))
	log, err := s.ListNotifyDeliveries(ctx, "t1", "ep1", 0)
	require.NoError(t, err)
	require.Len(t, log, 2)
	require.Equal(t, "msg001", log[0].ID, "newest first")
	require.Equal(t, store.NotifyDelivered, log[1].State)
	require.Equal(t, 2, log[1].Attempts)
	requireJSONEq(t, json.RawMessage(`{"a":1}`), log[1].Payload, "payload")

	require.NoError(t, s.DeleteNotifyEndpoint(ctx, "t1", "ep1"))
	require.ErrorIs(t, s.DeleteNotifyEndpoint(ctx, "t1", "ep1"), store.ErrNotFound)
	_, err = s.GetNotifyDelivery(ctx, "t1", "msg000")
	require.ErrorIs(t, err, store.ErrNotFound, "the log goes with its endpoint")
}
