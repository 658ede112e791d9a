package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/webhook"
	"github.com/accordhq/accord/internal/webhook/signature"
	"github.com/accordhq/accord/packs"
)

// hubspotProvider is the shipped catalog manifest, as the binary embeds it.
func hubspotProvider(t testing.TB) *spec.Provider {
	t.Helper()
	data, err := packs.FS.ReadFile("catalog/providers/hubspot.yaml")
	require.NoError(t, err)
	p, diags := spec.ParseProvider("hubspot.yaml", data)
	require.NoError(t, diags.Err())
	require.NotNil(t, p.Webhooks, "the catalog's HubSpot manifest declares webhooks")
	return p
}

// hubspotEvent is one element of a HubSpot webhook batch, as HubSpot's
// webhooks API reference shows it.
func hubspotEvent(eventID int64, typ string, objectID int64, occurredAt int64, attempt int, extra string) string {
	return fmt.Sprintf(`{"eventId":%d,"subscriptionId":25,"portalId":33,"appId":1160452,"occurredAt":%d,`+
		`"subscriptionType":%q,"attemptNumber":%d,"objectId":%d,"changeSource":"CRM_UI"%s}`,
		eventID, occurredAt, typ, attempt, objectID, extra)
}

func hubspotBatch(events ...string) []byte {
	return []byte("[" + strings.Join(events, ",") + "]")
}

// sendHubSpot posts body to the test connection signed as HubSpot signs:
// v3, over method, the https URL HubSpot called, body and timestamp.
func (b *bundle) sendHubSpot(t testing.TB, body []byte) reply {
	t.Helper()
	scheme, err := signature.New(spec.SigHubSpot, signature.Options{})
	require.NoError(t, err)
	u, err := url.Parse(b.srv.URL + "/hooks/" + connID)
	require.NoError(t, err)
	sr := &signature.Request{Method: http.MethodPost, URL: u.RequestURI(), Host: u.Host, Body: body}
	require.NoError(t, scheme.(signature.RequestSigner).SignRequest(sr, []byte(secretA), testNow, ""))
	req, err := http.NewRequest(http.MethodPost, u.String(), bytes.NewReader(body))
	require.NoError(t, err)
	req.Header = sr.Header
	req.Header.Set("Content-Type", "application/json")
	return b.do(t, req)
}

type batchReply struct {
	Status    string   `json:"status"`
	Accepted  int      `json:"accepted"`
	Duplicate int      `json:"duplicate"`
	Ignored   int      `json:"ignored"`
	EventIDs  []string `json:"event_ids"`
}

func decodeBatch(t testing.TB, r reply) batchReply {
	t.Helper()
	var a batchReply
	require.NoError(t, json.Unmarshal([]byte(r.body), &a), r.body)
	return a
}

func TestHubSpotBatchStoresEachEvent(t *testing.T) {
	t.Parallel()
	runBoth(t, func(t *testing.T, o options) {
		o.provider = hubspotProvider(t)
		b := setup(t, o)
		ctx := context.Background()
		const at = int64(1_764_237_600_000)
		contact := hubspotEvent(101, "contact.creation", 5001, at, 0, "")
		dealStored := hubspotEvent(102, "deal.propertyChange", 7001, at+5, 0, `,"propertyName":"dealstage","propertyValue":"closedwon"`)
		// sourceId is not in the manifest's crm_event: it is not stored.
		deal := hubspotEvent(102, "deal.propertyChange", 7001, at+5, 0, `,"propertyName":"dealstage","propertyValue":"closedwon","sourceId":"userId:42"`)
		company := hubspotEvent(103, "company.propertyChange", 9001, at+9, 0, `,"propertyName":"domain","propertyValue":"acme.example"`)
		// Not among the manifest's events: ignored and counted, not stored.
		deletion := hubspotEvent(104, "contact.deletion", 5002, at, 0, "")

		r := b.sendHubSpot(t, hubspotBatch(contact, deal, deletion, company))
		require.Equal(t, http.StatusAccepted, r.status, r.body)
		a := decodeBatch(t, r)
		require.Equal(t, batchReply{Status: "accepted", Accepted: 3, Ignored: 1, EventIDs: a.EventIDs}, a)
		require.Len(t, a.EventIDs, 3)

		want := []struct {
			dedup, typ, object string
			version            int64
			element            string
		}{
			{"101", "contact.creation", "5001", at, contact},
			{"102", "deal.propertyChange", "7001", at + 5, dealStored},
			{"103", "company.propertyChange", "9001", at + 9, company},
		}
		for i, id := range a.EventIDs {
			ev, err := b.st.GetEvent(ctx, tenantID, id)
			require.NoError(t, err)
			require.Equal(t, want[i].dedup, ev.DedupKey)
			require.Equal(t, want[i].typ, ev.Type)
			require.Equal(t, want[i].object, ev.ObjectID)
			require.Equal(t, want[i].version, ev.ObjectVersion)
			require.JSONEq(t, want[i].element, string(ev.Payload), "each event stores its own element")
			require.Equal(t, store.EventQueued, ev.State)
		}
		require.Equal(t, 3, b.countEvents(t))
		require.Equal(t, 3, b.countJobs(t))
		require.Equal(t, 1.0, fieldsDropped(b, "helpdesk"))

		// HubSpot retries a batch with attemptNumber raised: those elements
		// are duplicates, the new one is stored, and an element repeated
		// inside the body counts once.
		contactRetry := hubspotEvent(101, "contact.creation", 5001, at, 1, "")
		fresh := hubspotEvent(105, "contact.propertyChange", 5001, at+20, 0, `,"propertyName":"email","propertyValue":"a@b.example"`)
		r = b.sendHubSpot(t, hubspotBatch(contactRetry, fresh, fresh))
		require.Equal(t, http.StatusAccepted, r.status, r.body)
		a = decodeBatch(t, r)
		require.Equal(t, 1, a.Accepted)
		require.Equal(t, 2, a.Duplicate)
		require.Len(t, a.EventIDs, 1)

		// The whole batch again: nothing new.
		r = b.sendHubSpot(t, hubspotBatch(contactRetry, fresh))
		require.Equal(t, http.StatusOK, r.status, r.body)
		require.Equal(t, batchReply{Status: "duplicate", Duplicate: 2, EventIDs: []string{}}, decodeBatch(t, r))

		require.Equal(t, 4, b.countEvents(t))
		require.Equal(t, 4, b.countJobs(t))
		require.Equal(t, 4.0, received(b, webhook.OutcomeAccepted))
		require.Equal(t, 4.0, received(b, webhook.OutcomeDuplicate))
		require.Equal(t, 1.0, received(b, webhook.OutcomeIgnored))
	})
}

func TestHubSpotBatchRefusedWhole(t *testing.T) {
	t.Parallel()
	runBoth(t, func(t *testing.T, o options) {
		o.provider = hubspotProvider(t)
		b := setup(t, o)
		good := hubspotEvent(201, "contact.creation", 5001, 1, 0, "")

		// A malformed element refuses the body, naming the element.
		noObject := `{"eventId":202,"subscriptionType":"deal.creation","occurredAt":2}`
		r := b.sendHubSpot(t, hubspotBatch(good, noObject))
		require.Equal(t, http.StatusBadRequest, r.status, r.body)
		require.JSONEq(t, `{"error":"event [1]: object id missing (expected at objectId)"}`, r.body)

		// One object where the manifest says the body is a list.
		r = b.sendHubSpot(t, []byte(good))
		require.Equal(t, http.StatusBadRequest, r.status, r.body)
		require.JSONEq(t, `{"error":"batch at . must be an array of events, got an object"}`, r.body)

		// More than the manifest's max_batch (100).
		many := make([]string, 101)
		for i := range many {
			many[i] = hubspotEvent(int64(300+i), "contact.creation", 5001, int64(i), 0, "")
		}
		r = b.sendHubSpot(t, hubspotBatch(many...))
		require.Equal(t, http.StatusRequestEntityTooLarge, r.status, r.body)
		require.JSONEq(t, `{"error":"the body holds 101 events, more than the 100 accepted in one request (max_batch)"}`, r.body)

		require.Equal(t, 0, b.countEvents(t))
		require.Equal(t, 0, b.countJobs(t))
		require.Equal(t, 2.0, received(b, webhook.OutcomeMalformed))
		require.Equal(t, 1.0, received(b, webhook.OutcomeTooLarge))

		// Exactly max_batch is fine.
		r = b.sendHubSpot(t, hubspotBatch(many[:100]...))
		require.Equal(t, http.StatusAccepted, r.status, r.body)
		require.Equal(t, 100, decodeBatch(t, r).Accepted)
		require.Equal(t, 100, b.countEvents(t))
	})
}

// A batch whose commit fails stores none of its events: the partner
// retries the whole body, and then nothing of it is a duplicate.
func TestHubSpotBatchCommitsAllOrNothing(t *testing.T) {
	t.Parallel()
	for name, open := range backends() {
		for _, group := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/group_commit=%v", name, group), func(t *testing.T) {
				t.Parallel()
				// River refuses the job of event 402: the transaction fails.
				b := setup(t, options{open: open, provider: hubspotProvider(t), poison: "402",
					cfg: &webhook.Config{DisableGroupCommit: !group}})
				first := hubspotEvent(401, "contact.creation", 5001, 1, 0, "")
				poisoned := hubspotEvent(402, "deal.creation", 7001, 2, 0, "")
				last := hubspotEvent(403, "company.creation", 9001, 3, 0, "")

				r := b.sendHubSpot(t, hubspotBatch(first, poisoned, last))
				require.Equal(t, http.StatusInternalServerError, r.status, r.body)
				require.Equal(t, 0, b.countEvents(t), "no event of a failed batch is stored")
				require.Equal(t, 0, b.countJobs(t))

				// The partner's retry without the bad event stores the rest
				// as new events, not duplicates.
				r = b.sendHubSpot(t, hubspotBatch(first, last))
				require.Equal(t, http.StatusAccepted, r.status, r.body)
				a := decodeBatch(t, r)
				require.Equal(t, 2, a.Accepted)
				require.Equal(t, 0, a.Duplicate)
				require.Equal(t, 2, b.countEvents(t))
			})
		}
	}
}

// For a scheme that signs only the body, batch elements are deduplicated
// on a hash of each element as sent, before minimisation: two elements
// that differ only in undeclared fields are two events, and a replayed
// body is all duplicates.
func TestBodyHashBatchDedupIsOnTheSignedElement(t *testing.T) {
	t.Parallel()
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := &spec.Provider{
				Name:    "helpdesk",
				Objects: map[string]*spec.Object{"ticket": {Fields: map[string]*spec.Field{"id": {Type: spec.TypeString}}}},
				Webhooks: &spec.Webhooks{
					Signature: spec.Signature{Scheme: spec.SigGitHub}, Batch: "events",
					EventID: "id", EventType: "type", ObjectID: "ticket.id", Object: "ticket",
					Events: map[string]*spec.EventType{"ticket.updated": {Object: "ticket"}},
				},
			}
			b := setup(t, options{open: open, provider: p})
			scheme, err := signature.New(spec.SigGitHub, signature.Options{})
			require.NoError(t, err)
			send := func(body string) reply {
				h, err := scheme.Sign([]byte(body), []byte(secretA), testNow, "")
				require.NoError(t, err)
				req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/hooks/"+connID, strings.NewReader(body))
				require.NoError(t, err)
				for k, v := range h {
					req.Header[k] = v
				}
				return b.do(t, req)
			}
			body := `{"events":[{"id":"e1","type":"ticket.updated","ticket":{"id":"T-1","note":"first"}},` +
				`{"id":"e1","type":"ticket.updated","ticket":{"id":"T-1","note":"second"}}]}`
			r := send(body)
			require.Equal(t, http.StatusAccepted, r.status, r.body)
			a := decodeBatch(t, r)
			require.Equal(t, 2, a.Accepted, "the elements differ as signed, though not as stored")
			for _, id := range a.EventIDs {
				ev, err := b.st.GetEvent(context.Background(), tenantID, id)
				require.NoError(t, err)
				require.JSONEq(t, `{"id":"e1","type":"ticket.updated","ticket":{"id":"T-1"}}`, string(ev.Payload))
			}
			r = send(body)
			require.Equal(t, http.StatusOK, r.status, r.body)
			require.Equal(t, 2, decodeBatch(t, r).Duplicate)
			require.Equal(t, 2, b.countEvents(t))
		})
	}
}
