package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// putEvent stores an event of f's connection received at when.
func putEvent(t *testing.T, q store.Queries, f fixture, id string, state store.EventState, when time.Time) {
	t.Helper()
	ins, err := q.InsertEvent(context.Background(), store.Event{TenantID: f.tenant.ID, ID: id,
		ConnectionID: f.conn.ID, DedupKey: "d_" + id, Type: "ticket.updated", ObjectID: "T-1",
		ReceivedAt: when, State: state})
	require.NoError(t, err)
	require.True(t, ins, id)
}

func requireEventState(t *testing.T, q store.Queries, tenantID, id string, want store.EventState) {
	t.Helper()
	got, err := q.GetEvent(context.Background(), tenantID, id)
	require.NoError(t, err, "%s/%s", tenantID, id)
	require.Equal(t, want, got.State, "%s/%s", tenantID, id)
}

func testEventStateOnInsert(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	tests := []struct {
		name, id    string
		state, want store.EventState
	}{
		{"empty means pending", "evt_default", "", store.EventPending},
		{"pending kept", "evt_pending", store.EventPending, store.EventPending},
		{"queued kept", "evt_queued", store.EventQueued, store.EventQueued},
		{"done kept", "evt_done", store.EventDone, store.EventDone},
	}
	for _, tc := range tests {
		putEvent(t, s, f, tc.id, tc.state, at(0))
		requireEventState(t, s, "t1", tc.id, tc.want)
	}

	_, err := s.InsertEvent(ctx, store.Event{TenantID: "t1", ID: "evt_bogus", ConnectionID: f.conn.ID,
		DedupKey: "bogus", Type: "x", State: "delivered"})
	require.Error(t, err, "an unknown state is rejected")
	_, err = s.GetEvent(ctx, "t1", "evt_bogus")
	require.ErrorIs(t, err, store.ErrNotFound, "and nothing is stored")
}

// testSetEventsState: a batch names events of several tenants; each ref
// reaches only its own tenant's event.
func testSetEventsState(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := seed(t, s, "ta")
	b := seed(t, s, "tb")
	// Event ids are unique per tenant only: both tenants hold evt_same.
	for _, f := range []fixture{a, b} {
		putEvent(t, s, f, "evt_same", "", at(0))
		putEvent(t, s, f, "evt_"+f.tenant.ID, "", at(0))
		putEvent(t, s, f, "evt_untouched_"+f.tenant.ID, "", at(0))
	}

	require.NoError(t, s.SetEventsState(ctx, []store.EventRef{
		{TenantID: "ta", ID: "evt_ta"},
		{TenantID: "tb", ID: "evt_tb"},
		{TenantID: "ta", ID: "evt_missing"}, // unknown: ignored
		{TenantID: "t_missing", ID: "evt_ta"},
	}, store.EventQueued))
	requireEventState(t, s, "ta", "evt_ta", store.EventQueued)
	requireEventState(t, s, "tb", "evt_tb", store.EventQueued)
	requireEventState(t, s, "ta", "evt_untouched_ta", store.EventPending)
	requireEventState(t, s, "tb", "evt_untouched_tb", store.EventPending)

	// A ref with the wrong tenant does not reach the other tenant's event.
	require.NoError(t, s.SetEventsState(ctx, []store.EventRef{
		{TenantID: "ta", ID: "evt_tb"},
		{TenantID: "tb", ID: "evt_untouched_ta"},
	}, store.EventDone))
	requireEventState(t, s, "tb", "evt_tb", store.EventQueued)
	requireEventState(t, s, "ta", "evt_untouched_ta", store.EventPending)

	// The same id in two tenants: only the named tenant's changes.
	require.NoError(t, s.SetEventsState(ctx, []store.EventRef{{TenantID: "tb", ID: "evt_same"}}, store.EventDone))
	requireEventState(t, s, "tb", "evt_same", store.EventDone)
	requireEventState(t, s, "ta", "evt_same", store.EventPending)

	// A ref may repeat, a move back is skipped without an error, and an
	// empty batch is a no-op.
	require.NoError(t, s.SetEventsState(ctx, []store.EventRef{
		{TenantID: "ta", ID: "evt_ta"}, {TenantID: "ta", ID: "evt_ta"},
	}, store.EventPending))
	requireEventState(t, s, "ta", "evt_ta", store.EventQueued)
	require.NoError(t, s.SetEventsState(ctx, nil, store.EventDone))

	// An unknown state is rejected and changes nothing, even with no refs.
	for _, bad := range []store.EventState{"", "delivered", "PENDING"} {
		err := s.SetEventsState(ctx, []store.EventRef{{TenantID: "ta", ID: "evt_ta"}}, bad)
		require.Error(t, err, "state %q", bad)
		require.Error(t, s.SetEventsState(ctx, nil, bad), "state %q with no refs", bad)
	}
	requireEventState(t, s, "ta", "evt_ta", store.EventQueued)
}

// testSetEventsStateBatch is the sweeper's and the engine's batch size:
// a thousand refs across two tenants in one call, beyond SQLite's and
// PostgreSQL's limits on the number of bound parameters were it one per ref.
func testSetEventsStateBatch(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 1000
	fs := []fixture{seed(t, s, "ta"), seed(t, s, "tb")}
	require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		for i := range n + 10 {
			putEvent(t, tx, fs[i%2], fmtID("evt_", i), "", at(time.Duration(i)*time.Millisecond))
		}
		return nil
	}))
	refs := make([]store.EventRef, n)
	for i := range refs {
		refs[i] = store.EventRef{TenantID: fs[i%2].tenant.ID, ID: fmtID("evt_", i)}
	}
	require.NoError(t, s.SetEventsState(ctx, refs, store.EventDone))

	pending, err := s.ListPendingEvents(ctx, at(time.Hour), 100)
	require.NoError(t, err)
	require.Len(t, pending, 10, "only the events left out of the batch are pending")
	for i, e := range pending {
		require.Equal(t, fmtID("evt_", n+i), e.ID)
	}
	requireEventState(t, s, "ta", fmtID("evt_", 0), store.EventDone)
	requireEventState(t, s, "tb", fmtID("evt_", n-1), store.EventDone)
}

func testListPendingEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := seed(t, s, "ta")
	b := seed(t, s, "tb")
	// Inserted out of order, across tenants; queued and done ones are the
	// oldest, so a scan that ignored the state would return them first.
	putEvent(t, s, b, "evt_3", "", at(3*time.Second))
	putEvent(t, s, a, "evt_1", "", at(1*time.Second))
	putEvent(t, s, a, "evt_queued", store.EventQueued, at(0))
	putEvent(t, s, b, "evt_done", store.EventDone, at(0))
	putEvent(t, s, b, "evt_2", store.EventPending, at(2*time.Second))
	putEvent(t, s, a, "evt_4", "", at(4*time.Second))

	ids := func(es []store.Event) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.TenantID+"/"+e.ID)
		}
		return out
	}
	tests := []struct {
		name   string
		before time.Time
		limit  int
		want   []string
	}{
		{"oldest first across tenants", at(time.Hour), 10, []string{"ta/evt_1", "tb/evt_2", "tb/evt_3", "ta/evt_4"}},
		{"received before is strict", at(3 * time.Second), 10, []string{"ta/evt_1", "tb/evt_2"}},
		{"limit keeps the oldest", at(time.Hour), 2, []string{"ta/evt_1", "tb/evt_2"}},
		{"nothing that old", at(time.Second), 10, nil},
	}
	for _, tc := range tests {
		got, err := s.ListPendingEvents(ctx, tc.before, tc.limit)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, ids(got), tc.name)
	}

	// The whole event comes back, state included.
	got, err := s.ListPendingEvents(ctx, at(2*time.Second), 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, store.Event{TenantID: "ta", ID: "evt_1", ConnectionID: a.conn.ID, DedupKey: "d_evt_1",
		Type: "ticket.updated", ObjectID: "T-1", ReceivedAt: norm(at(time.Second)), State: store.EventPending}, got[0])

	// Handed to the queue: no longer pending.
	require.NoError(t, s.SetEventsState(ctx, []store.EventRef{{TenantID: "ta", ID: "evt_1"}, {TenantID: "tb", ID: "evt_3"}},
		store.EventQueued))
	got, err = s.ListPendingEvents(ctx, at(time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, []string{"tb/evt_2", "ta/evt_4"}, ids(got))
}

// testEventStateInTx: state changes are part of the caller's transaction.
func testEventStateInTx(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	putEvent(t, s, f, "evt_1", "", at(0))
	putEvent(t, s, f, "evt_2", "", at(time.Second))
	refs := []store.EventRef{{TenantID: "t1", ID: "evt_1"}}

	errBoom := errors.New("boom")
	err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		require.NoError(t, tx.SetEventsState(ctx, refs, store.EventQueued))
		requireEventState(t, tx, "t1", "evt_1", store.EventQueued)
		got, err := tx.ListPendingEvents(ctx, at(time.Hour), 10)
		require.NoError(t, err)
		require.Len(t, got, 1, "the transaction sees its own change")
		require.Equal(t, "evt_2", got[0].ID)
		return errBoom
	})
	require.ErrorIs(t, err, errBoom)
	requireEventState(t, s, "t1", "evt_1", store.EventPending)
	got, err := s.ListPendingEvents(ctx, at(time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, got, 2, "rolled back: both still pending")

	require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.SetEventsState(ctx, refs, store.EventDone)
	}))
	requireEventState(t, s, "t1", "evt_1", store.EventDone)
}

// testPendingEventsSweep is the sweeper's use: events stamped by the
// store's clock, listed once they have lingered past a grace period.
func testPendingEventsSweep(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	const grace = 30 * time.Second
	putEvent(t, s, f, "evt_old", "", time.Time{}) // received now, by the store's clock
	clock.Advance(grace)
	putEvent(t, s, f, "evt_new", "", time.Time{})
	clock.Advance(time.Second)

	got, err := s.ListPendingEvents(ctx, clock.Now().Add(-grace), 100)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "evt_old", got[0].ID)
	require.Equal(t, norm(base), got[0].ReceivedAt)

	clock.Advance(grace)
	got, err = s.ListPendingEvents(ctx, clock.Now().Add(-grace), 100)
	require.NoError(t, err)
	require.Len(t, got, 2, "the newer one lingers too by now")
}
