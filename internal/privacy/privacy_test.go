package privacy_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/privacy"
	"github.com/accordhq/accord/internal/spec"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(s), &v))
	return v
}

func encode(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// customer declares a nested object, a list of objects, a free-form
// object and its id and version outside its fields.
var customer = &spec.Object{
	ID:      "id",
	Version: "meta.revision",
	Fields: map[string]*spec.Field{
		"name":     {Type: spec.TypeString},
		"email":    {Type: spec.TypeString, PII: spec.PIIEmail},
		"address":  {Type: spec.TypeObject, Fields: map[string]*spec.Field{"city": {Type: spec.TypeString}}},
		"items":    {Type: spec.TypeList, Items: &spec.Field{Type: spec.TypeObject, Fields: map[string]*spec.Field{"sku": {Type: spec.TypeString}}}},
		"tags":     {Type: spec.TypeList},
		"metadata": {Type: spec.TypeObject},
	},
}

func TestMinimise(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		obj      *spec.Object
		doc      string
		want     string
		dropping int
	}{
		{"declared fields only", customer,
			`{"id":"c1","name":"Ada","ssn":"078-05-1120","email":"ada@example.com","meta":{"revision":3,"ip":"10.0.0.1"}}`,
			`{"id":"c1","name":"Ada","email":"ada@example.com","meta":{"revision":3}}`, 2},
		{"nested objects and lists follow their fields", customer,
			`{"address":{"city":"Paris","street":"1 rue X"},"items":[{"sku":"a","price":1},{"sku":"b","note":"x"}],"tags":["x",{"y":1}]}`,
			`{"address":{"city":"Paris"},"items":[{"sku":"a"},{"sku":"b"}],"tags":["x",{"y":1}]}`, 3},
		{"an object field without fields is kept whole", customer,
			`{"metadata":{"anything":{"deep":true}}}`, `{"metadata":{"anything":{"deep":true}}}`, 0},
		{"a value of another kind than declared is kept", customer,
			`{"address":"Paris"}`, `{"address":"Paris"}`, 0},
		{"an object without fields is kept whole", &spec.Object{Fields: map[string]*spec.Field{}},
			`{"a":1,"b":{"c":2}}`, `{"a":1,"b":{"c":2}}`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := decode(t, tc.doc)
			before := encode(t, doc)
			got, dropped := privacy.Minimise(tc.obj, doc)
			require.JSONEq(t, tc.want, encode(t, got))
			require.Equal(t, tc.dropping, dropped)
			require.Equal(t, before, encode(t, doc), "the input is not modified")
		})
	}
}

func TestEventShape(t *testing.T) {
	t.Parallel()
	p := &spec.Provider{
		Objects: map[string]*spec.Object{"customer": customer, "blob": {Fields: map[string]*spec.Field{}}},
		Webhooks: &spec.Webhooks{
			EventID: "id", EventType: "type", Object: "data.object", ObjectID: "data.object.id", ObjectVersion: "data.object.meta.revision",
			Events: map[string]*spec.EventType{
				"customer.updated": {Object: "customer"},
				"blob.changed":     {Object: "blob", ObjectID: "data.blob_id"},
			},
		},
	}
	body := `{"id":"evt_1","type":"customer.updated","livemode":false,"request":{"ip":"1.2.3.4"},
		"data":{"previous_attributes":{"name":"Old"},"object":{"id":"c1","name":"Ada","phone":"+33 1 23 45 67 89","meta":{"revision":3}}}}`
	got, dropped := privacy.EventShape(p, "customer.updated").Apply(decode(t, body))
	require.JSONEq(t, `{"id":"evt_1","type":"customer.updated","data":{"object":{"id":"c1","name":"Ada","meta":{"revision":3}}}}`, encode(t, got))
	require.Equal(t, 4, dropped, "livemode, request, previous_attributes, phone")

	// The object declares nothing: it is kept whole, the envelope is still
	// pruned to what the manifest reads.
	got, dropped = privacy.EventShape(p, "blob.changed").Apply(decode(t,
		`{"id":"e2","type":"blob.changed","data":{"blob_id":"b1","object":{"x":1}},"extra":true}`))
	require.JSONEq(t, `{"id":"e2","type":"blob.changed","data":{"blob_id":"b1","object":{"x":1}}}`, encode(t, got))
	require.Equal(t, 1, dropped)

	require.Nil(t, privacy.EventShape(p, "unknown.type"), "unknown types are not stored: nothing to shape")

	// Without an object path the body is the object (HubSpot's elements):
	// the envelope locations are kept beside its declared fields.
	flat := &spec.Provider{
		Objects: map[string]*spec.Object{"crm_event": {ID: "objectId", Fields: map[string]*spec.Field{"propertyName": {Type: spec.TypeString}}}},
		Webhooks: &spec.Webhooks{EventID: "eventId", EventType: "subscriptionType", ObjectID: "objectId", ObjectVersion: "occurredAt",
			Events: map[string]*spec.EventType{"contact.propertyChange": {Object: "crm_event"}}},
	}
	got, dropped = privacy.EventShape(flat, "contact.propertyChange").Apply(decode(t,
		`{"eventId":1,"subscriptionType":"contact.propertyChange","objectId":9,"occurredAt":5,"propertyName":"email","sourceId":"userId:1"}`))
	require.JSONEq(t, `{"eventId":1,"subscriptionType":"contact.propertyChange","objectId":9,"occurredAt":5,"propertyName":"email"}`, encode(t, got))
	require.Equal(t, 1, dropped)
}

func TestRedact(t *testing.T) {
	t.Parallel()
	obj := &spec.Object{Fields: map[string]*spec.Field{
		"contact_address": {Type: spec.TypeString, PII: spec.PIIEmail},
		"tel":             {Type: spec.TypeString, PII: spec.PIIPhone},
		"license":         {Type: spec.TypeString, PII: spec.PIISecret},
		"full_name":       {Type: spec.TypeString, PII: spec.PIIPersonal},
		"nested":          {Type: spec.TypeObject, Fields: map[string]*spec.Field{"owner": {Type: spec.TypeString, PII: spec.PIIEmail}}},
		"numbers":         {Type: spec.TypeList, Items: &spec.Field{Type: spec.TypeString, PII: spec.PIIPhone}},
		"plan":            {Type: spec.TypeString},
	}}
	doc := decode(t, `{
		"contact_address": "ada@example.com", "tel": "+1 (415) 555-0142", "license": "LK-1234", "full_name": "Ada Lovelace",
		"nested": {"owner": "bob@corp.example"}, "numbers": ["+44 20 7946 0958", null],
		"plan": "pro, billed to carol@example.org",
		"api_token": "tok_live_123", "mobile": 33612345678, "Email": "dan@example.net",
		"credentials": {"user": "x", "pass": "y"}, "note": "call me", "missing": null
	}`)
	got := privacy.Redact(obj, doc)
	require.JSONEq(t, `{
		"contact_address": "a***@example.com", "tel": "***42", "license": "[redacted]", "full_name": "[redacted]",
		"nested": {"owner": "b***@corp.example"}, "numbers": ["***58", null],
		"plan": "pro, billed to c***@example.org",
		"api_token": "[redacted]", "mobile": "***78", "Email": "d***@example.net",
		"credentials": "[redacted]", "note": "call me", "missing": null
	}`, encode(t, got))

	// Without a manifest object the name rule alone applies.
	got = privacy.Redact(nil, decode(t, `{"email":"not an address","phone":"12","password":"hunter2","city":"Lyon"}`))
	require.JSONEq(t, `{"email":"[redacted]","phone":"[redacted]","password":"[redacted]","city":"Lyon"}`, encode(t, got))
}
