package webhook

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

func TestEventParser(t *testing.T) {
	t.Parallel()
	events := map[string]*spec.EventType{"ticket.updated": {Object: "ticket"}}
	bodyPaths := &spec.Webhooks{EventID: "id", EventType: "type", ObjectID: "data.ticket.id", ObjectVersion: "data.ticket.version", Events: events}
	headers := &spec.Webhooks{EventID: "header:X-Event-Id", EventType: "header:x-event-type", ObjectID: "object.id", Events: events}
	timestamps := &spec.Webhooks{EventID: "id", EventType: "type", ObjectID: "data.id", ObjectVersion: "data.updated_at", VersionKind: "timestamp", Events: events}
	// A subscription event carries its object under another key than a
	// customer event, and is ordered by another field.
	perType := &spec.Webhooks{EventID: "id", EventType: "type", ObjectID: "data.object.id", ObjectVersion: "data.object.updated", Events: map[string]*spec.EventType{
		"customer.updated":     {Object: "customer"},
		"subscription.updated": {Object: "subscription", ObjectID: "data.subscription.id", ObjectVersion: "data.subscription.revision"},
	}}

	ts := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	cases := []struct {
		name    string
		w       *spec.Webhooks
		header  http.Header
		body    string
		want    parsedEvent
		wantErr string
	}{
		{name: "body paths", w: bodyPaths,
			body: `{"id":"e1","type":"ticket.updated","data":{"ticket":{"id":"T-1","version":7}}}`,
			want: parsedEvent{id: "e1", typ: "ticket.updated", objectID: "T-1", version: 7, known: true}},
		{name: "numeric ids keep every digit", w: bodyPaths,
			body: `{"id":12345678901234567890,"type":"ticket.updated","data":{"ticket":{"id":42,"version":"8"}}}`,
			want: parsedEvent{id: "12345678901234567890", typ: "ticket.updated", objectID: "42", version: 8, known: true}},
		{name: "headers", w: headers, header: http.Header{"X-Event-Id": {"h1"}, "X-Event-Type": {"ticket.updated"}},
			body: `{"object":{"id":"T-2"}}`,
			want: parsedEvent{id: "h1", typ: "ticket.updated", objectID: "T-2", known: true}},
		{name: "timestamp version", w: timestamps,
			body: `{"id":"e2","type":"ticket.updated","data":{"id":"T","updated_at":"` + ts.Format(time.RFC3339Nano) + `"}}`,
			want: parsedEvent{id: "e2", typ: "ticket.updated", objectID: "T", version: ts.UnixNano(), known: true}},
		{name: "webhook-level paths", w: perType,
			body: `{"id":"e4","type":"customer.updated","data":{"object":{"id":"cus_1","updated":1700000000}}}`,
			want: parsedEvent{id: "e4", typ: "customer.updated", objectID: "cus_1", version: 1700000000, known: true}},
		{name: "per-event-type paths", w: perType,
			body: `{"id":"e5","type":"subscription.updated","data":{"subscription":{"id":"sub_1","revision":3}}}`,
			want: parsedEvent{id: "e5", typ: "subscription.updated", objectID: "sub_1", version: 3, known: true}},
		{name: "per-event-type path missing", w: perType,
			body: `{"id":"e6","type":"subscription.updated","data":{"object":{"id":"sub_1"}}}`, wantErr: "object id missing (expected at data.subscription.id)"},
		{name: "unknown type needs no object", w: bodyPaths, body: `{"id":"e3","type":"user.login"}`,
			want: parsedEvent{id: "e3", typ: "user.login"}},
		{name: "not json", w: bodyPaths, body: `{"id":`, wantErr: "body is not valid JSON: unexpected end of body"},
		{name: "syntax error position", w: bodyPaths, body: `{"id" "x"}`, wantErr: "syntax error at byte"},
		{name: "two values", w: bodyPaths, body: `{} {}`, wantErr: "data after the first value"},
		{name: "array body", w: bodyPaths, body: `[1]`, wantErr: "event id missing (expected at id)"},
		{name: "null id", w: bodyPaths, body: `{"id":null,"type":"ticket.updated"}`, wantErr: "event id missing"},
		{name: "empty id", w: bodyPaths, body: `{"id":"","type":"ticket.updated"}`, wantErr: "event id at id is empty"},
		{name: "object id", w: bodyPaths, body: `{"id":{"a":1},"type":"ticket.updated"}`, wantErr: "event id at id must be a string or a number, got an object"},
		{name: "missing header", w: headers, body: `{}`, wantErr: "event id missing (expected at header:X-Event-Id)"},
		{name: "missing type", w: bodyPaths, body: `{"id":"e"}`, wantErr: "event type missing (expected at type)"},
		{name: "missing version", w: bodyPaths, body: `{"id":"e","type":"ticket.updated","data":{"ticket":{"id":"T"}}}`,
			wantErr: "object version missing (expected at data.ticket.version)"},
		{name: "float version", w: bodyPaths, body: `{"id":"e","type":"ticket.updated","data":{"ticket":{"id":"T","version":1.5}}}`,
			wantErr: "object version at data.ticket.version must be an integer"},
		{name: "timestamp as number", w: timestamps, body: `{"id":"e","type":"ticket.updated","data":{"id":"T","updated_at":17}}`,
			wantErr: "must be an RFC 3339 timestamp, got a number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := newEventParser(c.w).parse(c.header, []byte(c.body))
			if c.wantErr != "" {
				var me *MalformedError
				require.ErrorAs(t, err, &me)
				require.Contains(t, me.Reason, c.wantErr)
				return
			}
			require.NoError(t, err)
			require.Len(t, got, 1)
			got[0].doc = nil
			require.Equal(t, c.want, got[0])
		})
	}
}

func TestBatchParser(t *testing.T) {
	t.Parallel()
	events := map[string]*spec.EventType{"contact.creation": {Object: "contact"}}
	bare := &spec.Webhooks{Batch: ".", MaxBatch: 3, EventID: "eventId", EventType: "subscriptionType", ObjectID: "objectId", ObjectVersion: "occurredAt", Events: events}
	nested := &spec.Webhooks{Batch: "data.events", EventID: "eventId", EventType: "subscriptionType", ObjectID: "objectId", Events: events}
	el := func(id, typ string) string {
		return `{"eventId":` + id + `,"subscriptionType":"` + typ + `","objectId":5` + id + `,"occurredAt":17000` + id + `}`
	}
	cases := []struct {
		name    string
		w       *spec.Webhooks
		body    string
		want    []parsedEvent
		wantErr string
		tooMany bool
	}{
		{name: "bare array, locations relative to each element", w: bare,
			body: `[` + el("1", "contact.creation") + `,` + el("2", "deal.creation") + `]`,
			want: []parsedEvent{{id: "1", typ: "contact.creation", objectID: "51", version: 170001, known: true}, {id: "2", typ: "deal.creation"}}},
		{name: "nested array", w: nested, body: `{"data":{"events":[` + el("3", "contact.creation") + `]}}`,
			want: []parsedEvent{{id: "3", typ: "contact.creation", objectID: "53", known: true}}},
		{name: "malformed element names its index", w: bare,
			body:    `[` + el("1", "contact.creation") + `,{"eventId":2,"subscriptionType":"contact.creation"}]`,
			wantErr: "event [1]: object id missing (expected at objectId)"},
		{name: "element not an object", w: bare, body: `[` + el("1", "contact.creation") + `,7]`, wantErr: "event [1] must be a JSON object, got a number"},
		{name: "object where the array should be", w: bare, body: el("1", "contact.creation"), wantErr: "batch at . must be an array of events, got an object"},
		{name: "missing array", w: nested, body: `{"data":{}}`, wantErr: "batch of events missing (expected an array at data.events)"},
		{name: "empty batch", w: bare, body: `[]`, wantErr: "batch at . holds no events"},
		{name: "past max_batch", w: bare, body: `[` + el("1", "a") + `,` + el("2", "a") + `,` + el("3", "a") + `,` + el("4", "a") + `]`, tooMany: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := newEventParser(c.w).parse(nil, []byte(c.body))
			if c.tooMany {
				var tl *BatchTooLargeError
				require.ErrorAs(t, err, &tl)
				require.Equal(t, BatchTooLargeError{Events: 4, Max: 3}, *tl)
				return
			}
			if c.wantErr != "" {
				var me *MalformedError
				require.ErrorAs(t, err, &me)
				require.Equal(t, c.wantErr, me.Reason)
				return
			}
			require.NoError(t, err)
			for i := range got {
				got[i].doc = nil
			}
			require.Equal(t, c.want, got)
		})
	}
}

func FuzzEventParser(f *testing.F) {
	w := &spec.Webhooks{EventID: "id", EventType: "header:X-Type", ObjectID: "data.id", ObjectVersion: "data.v",
		Events: map[string]*spec.EventType{"a": {Object: "o"}}}
	p := newEventParser(w)
	f.Add([]byte(`{"id":"e","data":{"id":"T","v":3}}`), "a")
	f.Add([]byte(`{"id":1e400}`), "a")
	f.Add([]byte(`[]`), "b")
	f.Fuzz(func(t *testing.T, body []byte, typ string) {
		evs, err := p.parse(http.Header{"X-Type": {typ}}, body)
		if err != nil {
			var me *MalformedError
			require.ErrorAs(t, err, &me)
			return
		}
		require.Len(t, evs, 1)
		ev := evs[0]
		require.NotEmpty(t, ev.id)
		require.NotEmpty(t, ev.typ)
		if ev.known {
			require.NotEmpty(t, ev.objectID)
		}
	})
}

func FuzzBatchParser(f *testing.F) {
	w := &spec.Webhooks{Batch: ".", MaxBatch: 5, EventID: "eventId", EventType: "subscriptionType", ObjectID: "objectId", ObjectVersion: "occurredAt",
		Events: map[string]*spec.EventType{"a": {Object: "o"}}}
	p := newEventParser(w)
	f.Add([]byte(`[{"eventId":1,"subscriptionType":"a","objectId":2,"occurredAt":3}]`))
	f.Add([]byte(`[{"eventId":1,"subscriptionType":"b"},7]`))
	f.Add([]byte(`{"eventId":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := p.parse(nil, body)
		if err != nil {
			var me *MalformedError
			var tl *BatchTooLargeError
			if !errors.As(err, &tl) {
				require.ErrorAs(t, err, &me)
			}
			return
		}
		require.NotEmpty(t, evs)
		require.LessOrEqual(t, len(evs), 5)
		for _, ev := range evs {
			require.NotEmpty(t, ev.id)
			if ev.known {
				require.NotEmpty(t, ev.objectID)
			}
		}
	})
}
