package engine_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/store"
)

// A record error keeps a sample of the failed record, minimised to what
// the manifest declares and redacted by field type before it is stored:
// the row (which outlives the event's retention) holds no e-mail address,
// phone number or secret.
func TestRecordErrorSampleIsRedactedBeforeItIsStored(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, pg bool) {
		tb := setupOn(t, pg, setupOpts{editHelpdesk: func(t *testing.T, yaml string) string {
			const anchor = "      customer_id: {type: string}\n"
			require.Contains(t, yaml, anchor, "the pack's helpdesk changed shape; update the test's edit")
			return strings.Replace(yaml, anchor, anchor+
				"      requester:\n"+
				"        type: object\n"+
				"        fields:\n"+
				"          contact: {type: string, pii: email}\n"+
				"          tel: {type: string, pii: phone}\n"+
				"          name: {type: string, pii: personal}\n"+
				"          sso_token: {type: string}\n"+
				"          mobile: {type: string}\n", 1)
		}})
		tk := escalated("T-9", 1, "   ", "high") // a blank title: the incident cannot be written
		data := tk.data()
		data["description"] = "Reported by ada@example.com"
		data["requester"] = map[string]any{
			"contact": "ada@example.com", "tel": "+33 1 23 45 67 89", "name": "Ada Lovelace",
			"sso_token": "tok_live_abc", "mobile": "+44 7700 900123",
		}
		data["internal_score"] = 17 // not declared: not kept
		body, err := json.Marshal(map[string]any{"id": "evt_sample", "type": "ticket.updated", "data": data})
		require.NoError(t, err)
		ev := store.Event{TenantID: tb.tenantID, ID: "ev_" + uuid.NewString(), ConnectionID: tb.helpdeskConn, DedupKey: "evt_sample",
			Type: "ticket.updated", ObjectID: tk.ID, ObjectVersion: 1, Payload: body, ReceivedAt: tb.clock.Now()}
		inserted, err := tb.store.InsertEvent(t.Context(), ev)
		require.NoError(t, err)
		require.True(t, inserted)

		require.NoError(t, tb.deliver(t, engine.DeliverArgs{TenantID: tb.tenantID, EventID: ev.ID}))
		errs := tb.recordErrors(t)
		require.Len(t, errs, 1)
		re, err := tb.store.GetRecordError(t.Context(), tb.tenantID, errs[0].ID)
		require.NoError(t, err)
		require.JSONEq(t, `{
			"id": "T-9", "title": "   ", "description": "Reported by a***@example.com", "priority": "high",
			"status": "escalated", "customer_id": "cus_1", "url": "https://helpdesk.example/tickets/T-9", "version": 1,
			"updated_at": "2026-03-02T08:30:00Z",
			"requester": {"contact": "a***@example.com", "tel": "***89", "name": "[redacted]",
				"sso_token": "[redacted]", "mobile": "***23"}
		}`, string(re.Sample))
	})
}
