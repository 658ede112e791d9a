package api_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// An outage's record error says how many of the installation's events
// wait for the reconnect (held, not dropped); other record errors do not.
func TestOutageRecordErrorCountsHeldEvents(t *testing.T) {
	t.Parallel()
	b := setupClient(t)
	ctx := t.Context()
	inst, conns := b.install(t)
	hd := conns["helpdesk"].ID
	for i := range 3 {
		id := fmt.Sprintf("ev_%d", i)
		_, err := b.st.InsertEvent(ctx, store.Event{TenantID: "acme", ID: id, ConnectionID: hd, DedupKey: id, Type: "ticket.updated",
			ObjectID: "T-1", Payload: json.RawMessage(`{}`)})
		require.NoError(t, err)
	}
	require.NoError(t, b.st.SetEventsState(ctx, []store.EventRef{{TenantID: "acme", ID: "ev_0"}}, store.EventQueued))
	require.NoError(t, b.st.SetEventsState(ctx, []store.EventRef{{TenantID: "acme", ID: "ev_0", Outcome: "applied"}}, store.EventDone))
	for _, re := range []store.RecordError{
		{TenantID: "acme", ID: "re_auth", InstallationID: inst.ID, Class: "auth", Message: "token revoked", Status: store.RecordErrorOpen},
		{TenantID: "acme", ID: "re_bad", InstallationID: inst.ID, Class: "validation", Message: "title", Status: store.RecordErrorOpen},
	} {
		require.NoError(t, b.st.InsertRecordError(ctx, re))
	}

	got, err := b.client.GetRecordError(ctx, "acme", "re_auth")
	require.NoError(t, err)
	require.NotNil(t, got.HeldEvents)
	require.Equal(t, 2, *got.HeldEvents, "the two undelivered events wait for the reconnect")
	other, err := b.client.GetRecordError(ctx, "acme", "re_bad")
	require.NoError(t, err)
	require.Nil(t, other.HeldEvents, "a bad record holds nothing back")
}
