package webhook_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

// fieldsDropped reads accord_webhook_fields_dropped_total for provider.
func fieldsDropped(b *bundle, provider string) float64 {
	families, err := b.reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, f := range families {
		if f.GetName() != "accord_webhook_fields_dropped_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "provider" && l.GetValue() == provider {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// Only what the manifest declares is stored: the envelope locations of
// the webhooks section and the ticket's declared fields, nested ones
// included. The rest is dropped before the commit and counted.
func TestWebhookStoresOnlyDeclaredFields(t *testing.T) {
	t.Parallel()
	runBoth(t, func(t *testing.T, o options) {
		p := helpdeskProvider(0)
		p.Objects = map[string]*spec.Object{"ticket": {
			Version: "updated_at",
			Fields: map[string]*spec.Field{
				"id":        {Type: spec.TypeString},
				"subject":   {Type: spec.TypeString},
				"requester": {Type: spec.TypeObject, Fields: map[string]*spec.Field{"email": {Type: spec.TypeString, PII: spec.PIIEmail}}},
				"tags":      {Type: spec.TypeList, Items: &spec.Field{Type: spec.TypeObject, Fields: map[string]*spec.Field{"name": {Type: spec.TypeString}}}},
			},
		}}
		o.provider = p
		b := setup(t, o)
		updated := testNow.Add(-time.Minute)
		extra := `,"requester":{"email":"ada@example.com","phone":"+33 1 23 45 67 89","ip":"10.1.2.3"},` +
			`"tags":[{"name":"vip","color":"red"}],"internal_notes":"ssn 078-05-1120"`
		body := []byte(`{"id":"evt_min","type":"ticket.updated","account":{"plan":"pro","owner":"bob@example.com"},` +
			`"data":{"id":"T-7","updated_at":"` + updated.Format(time.RFC3339Nano) + `","subject":"Printer on fire"` + extra + `}}`)

		r := b.send(t, body)
		require.Equal(t, http.StatusAccepted, r.status, r.body)
		ev, err := b.st.GetEvent(context.Background(), tenantID, decodeReply(t, r).EventID)
		require.NoError(t, err)
		require.JSONEq(t, `{"id":"evt_min","type":"ticket.updated","data":{"id":"T-7","updated_at":"`+updated.Format(time.RFC3339Nano)+
			`","subject":"Printer on fire","requester":{"email":"ada@example.com"},"tags":[{"name":"vip"}]}}`, string(ev.Payload))
		// account, requester.phone, requester.ip, tags[0].color, internal_notes
		require.Equal(t, 5.0, fieldsDropped(b, "helpdesk"))

		// The dedup key is the event id (the signature binds the delivery):
		// the same event with other undeclared fields is a duplicate.
		r = b.send(t, []byte(`{"id":"evt_min","type":"ticket.updated","data":{"id":"T-7","updated_at":"`+updated.Format(time.RFC3339Nano)+`","noise":1}}`))
		require.Equal(t, http.StatusOK, r.status, r.body)
		require.Equal(t, 5.0, fieldsDropped(b, "helpdesk"), "a duplicate stores nothing, drops nothing")
	})
}
