package engine_test

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/store"
)

// Fields the manifest does not declare are ignored, never a failure, and
// counted.
func TestUnknownSourceFieldsAreIgnoredAndCounted(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	data := escalated("T-5", 1, "New partner fields", "high").data()
	data["sentiment_score"] = 0.2
	data["sla"] = map[string]any{"breach_at": "2026-03-02T10:00:00Z"}
	body, err := json.Marshal(map[string]any{"id": "evt_x", "type": "ticket.updated", "data": data})
	require.NoError(t, err)
	ev := store.Event{TenantID: tb.tenantID, ID: "ev_" + uuid.NewString(), ConnectionID: tb.helpdeskConn, DedupKey: "evt_x",
		Type: "ticket.updated", ObjectID: "T-5", ObjectVersion: 1, Payload: body, ReceivedAt: tb.clock.Now()}
	_, err = tb.store.InsertEvent(t.Context(), ev)
	require.NoError(t, err)

	require.NoError(t, tb.deliver(t, engine.DeliverArgs{TenantID: tb.tenantID, EventID: ev.ID}))
	require.Equal(t, "New partner fields", tb.onlyIncident(t).Title)
	require.GreaterOrEqual(t, tb.counter(t, "accord_mapping_unknown_fields_total", map[string]string{"provider": "helpdesk", "object": "ticket"}), 2.0)
}
