package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// testCountWaitingEvents: the events a paused connection holds back are
// those not yet delivered, on the connections asked about, of this tenant.
func testCountWaitingEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	seed(t, s, "t2")
	other := f.conn
	other.ID = "conn_other"
	require.NoError(t, s.CreateConnection(ctx, other))
	add := func(tenant, conn, id string, state store.EventState) {
		_, err := s.InsertEvent(ctx, store.Event{TenantID: tenant, ID: id, ConnectionID: conn, DedupKey: id, Type: "t",
			ObjectID: "o", Payload: json.RawMessage(`{}`), ReceivedAt: at(0)})
		require.NoError(t, err)
		if state != store.EventPending {
			require.NoError(t, s.SetEventsState(ctx, []store.EventRef{{TenantID: tenant, ID: id}}, store.EventQueued))
		}
		if state == store.EventDone {
			require.NoError(t, s.SetEventsState(ctx, []store.EventRef{{TenantID: tenant, ID: id, Outcome: "applied"}}, store.EventDone))
		}
	}
	for i, st := range []store.EventState{store.EventPending, store.EventQueued, store.EventQueued, store.EventDone} {
		add("t1", f.conn.ID, fmt.Sprintf("e%d", i), st)
	}
	add("t1", "conn_other", "o1", store.EventQueued)
	add("t2", "conn_t2", "x1", store.EventQueued)

	n, err := s.CountWaitingEvents(ctx, "t1", []string{f.conn.ID})
	require.NoError(t, err)
	require.Equal(t, 3, n, "pending and queued, not done")
	n, err = s.CountWaitingEvents(ctx, "t1", []string{f.conn.ID, "conn_other"})
	require.NoError(t, err)
	require.Equal(t, 4, n)
	n, err = s.CountWaitingEvents(ctx, "t1", []string{"conn_t2"})
	require.NoError(t, err)
	require.Zero(t, n, "another tenant's connection counts nothing")
	n, err = s.CountWaitingEvents(ctx, "t1", nil)
	require.NoError(t, err)
	require.Zero(t, n)
}
