package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/webhook"
)

type accepted struct {
	Status  string `json:"status"`
	EventID string `json:"event_id"`
}

func decodeReply(t testing.TB, r reply) accepted {
	t.Helper()
	var a accepted
	require.NoError(t, json.Unmarshal([]byte(r.body), &a), r.body)
	return a
}

// received sums accord_webhooks_received_total for one outcome over all
// tenants and providers.
func received(b *bundle, outcome webhook.Outcome) float64 {
	families, err := b.reg.Gather()
	if err != nil {
		panic(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != "accord_webhooks_received_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == string(outcome) {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

// runBoth runs fn on every backend, with and without group commit.
func runBoth(t *testing.T, fn func(t *testing.T, o options)) {
	for name, open := range backends() {
		for _, group := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/group_commit=%v", name, group), func(t *testing.T) {
				t.Parallel()
				fn(t, options{open: open, cfg: &webhook.Config{DisableGroupCommit: !group}})
			})
		}
	}
}

func TestAcceptedEventIsStoredWithItsJob(t *testing.T) {
	t.Parallel()
	runBoth(t, func(t *testing.T, o options) {
		b := setup(t, o)
		updated := testNow.Add(-time.Minute).Add(123 * time.Nanosecond)
		body := ticketEvent("evt_partner_1", "ticket.escalated", "T-42", updated, "")

		r := b.send(t, body)
		require.Equal(t, http.StatusAccepted, r.status, r.body)
		a := decodeReply(t, r)
		require.Equal(t, "accepted", a.Status)
		require.NotEmpty(t, a.EventID)

		ev, err := b.st.GetEvent(context.Background(), tenantID, a.EventID)
		require.NoError(t, err)
		require.Equal(t, connID, ev.ConnectionID)
		require.Equal(t, "evt_partner_1", ev.DedupKey)
		require.Equal(t, "ticket.escalated", ev.Type)
		require.Equal(t, "T-42", ev.ObjectID)
		require.Equal(t, updated.UnixNano(), ev.ObjectVersion)
		require.JSONEq(t, string(body), string(ev.Payload))
		require.Equal(t, store.EventQueued, ev.State, "its job owns it")
		require.Equal(t, 1, b.countJobs(t))
		require.Equal(t, 1.0, received(b, webhook.OutcomeAccepted))
	})
}

func TestDuplicateDeliveryStoresNothingMore(t *testing.T) {
	t.Parallel()
	runBoth(t, func(t *testing.T, o options) {
		b := setup(t, o)
		body := ticketEvent("evt_dup", "ticket.updated", "T-1", testNow, "")
		require.Equal(t, http.StatusAccepted, b.send(t, body).status)

		// A redelivery is signed again (new delivery id, same event id).
		r := b.do(t, b.signed(t, connID, body, secretA, testNow.Add(time.Second), "msg_redelivery"))
		require.Equal(t, http.StatusOK, r.status, r.body)
		require.JSONEq(t, `{"status":"duplicate"}`, r.body)
		require.Equal(t, 1, b.countEvents(t))
		require.Equal(t, 1, b.countJobs(t))
		require.Equal(t, 1.0, received(b, webhook.OutcomeDuplicate))
	})
}

func TestRejectedSignatures(t *testing.T) {
	t.Parallel()
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, options{open: open})
			body := ticketEvent("evt_sig", "ticket.updated", "T-1", testNow, "")
			cases := map[string]*http.Request{
				"wrong secret":    b.signed(t, connID, body, secretB, testNow, "msg_1"),
				"replayed":        b.signed(t, connID, body, secretA, testNow.Add(-10*time.Minute), "msg_2"),
				"from the future": b.signed(t, connID, body, secretA, testNow.Add(10*time.Minute), "msg_3"),
				"unsigned": func() *http.Request {
					req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/hooks/"+connID, bytes.NewReader(body))
					require.NoError(t, err)
					return req
				}(),
				"tampered body": func() *http.Request {
					req := b.signed(t, connID, body, secretA, testNow, "msg_4")
					tampered := bytes.Replace(body, []byte("T-1"), []byte("T-2"), 1)
					req.Body = nopCloser{bytes.NewReader(tampered)}
					return req
				}(),
			}
			for what, req := range cases {
				r := b.do(t, req)
				require.Equal(t, http.StatusUnauthorized, r.status, what)
				require.JSONEq(t, `{"error":"invalid signature"}`, r.body, what)
			}
			require.Equal(t, 0, b.countEvents(t))
			require.Equal(t, 0, b.countJobs(t))
			require.Equal(t, float64(len(cases)), received(b, webhook.OutcomeBadSignature))
		})
	}
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func TestRotationAcceptsBothSecrets(t *testing.T) {
	t.Parallel()
	b := setup(t, options{secrets: [][]byte{[]byte(secretA), []byte(secretB)}})
	for i, secret := range []string{secretA, secretB} {
		body := ticketEvent(fmt.Sprintf("evt_rot_%d", i), "ticket.updated", "T-1", testNow, "")
		r := b.do(t, b.signed(t, connID, body, secret, testNow, fmt.Sprintf("msg_%d", i)))
		require.Equal(t, http.StatusAccepted, r.status, r.body)
	}
	require.Equal(t, 2, b.countEvents(t))
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, options{}) // the default limit, 1 MiB
	const limit = 1 << 20

	// Just under the limit, mostly one long text field: stored byte for byte.
	skeleton := ticketEvent("evt_big", "ticket.updated", "T-9", testNow, `,"description":""`)
	text := strings.Repeat("lorem ipsum dolor sit amet, ünïcödé ✓ ", limit/40)
	text = text[:limit-len(skeleton)-1]
	for !utf8Valid(text) {
		text = text[:len(text)-1]
	}
	body := ticketEvent("evt_big", "ticket.updated", "T-9", testNow, `,"description":"`+text+`"`)
	require.Less(t, len(body), limit)
	require.Greater(t, len(body), limit-8)
	r := b.send(t, body)
	require.Equal(t, http.StatusAccepted, r.status, r.body)
	ev, err := b.st.GetEvent(context.Background(), tenantID, decodeReply(t, r).EventID)
	require.NoError(t, err)
	var stored struct {
		Data struct {
			Description string `json:"description"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(ev.Payload, &stored))
	require.Equal(t, text, stored.Data.Description)

	// Over the limit, with and without a declared length.
	over := ticketEvent("evt_over", "ticket.updated", "T-9", testNow, `,"description":"`+strings.Repeat("x", limit)+`"`)
	r = b.send(t, over)
	require.Equal(t, http.StatusRequestEntityTooLarge, r.status, r.body)

	req := b.signed(t, connID, over, secretA, testNow, "msg_chunked")
	req.ContentLength = -1 // sent chunked: only the reader can tell
	req.Body = nopCloser{bytes.NewReader(over)}
	r = b.do(t, req)
	require.Equal(t, http.StatusRequestEntityTooLarge, r.status, r.body)

	require.Equal(t, 1, b.countEvents(t))
	require.Equal(t, 2.0, received(b, webhook.OutcomeTooLarge))
}

func TestProviderBodyLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, options{maxBody: 512})
	r := b.send(t, ticketEvent("evt_small", "ticket.updated", "T-1", testNow, ""))
	require.Equal(t, http.StatusAccepted, r.status, r.body)
	r = b.send(t, ticketEvent("evt_large", "ticket.updated", "T-1", testNow, `,"x":"`+strings.Repeat("y", 512)+`"`))
	require.Equal(t, http.StatusRequestEntityTooLarge, r.status, r.body)
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestMalformedBodies(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	cases := []struct {
		name, body, message string
	}{
		{"not json", `{"id": "evt_1", "type": `, "not valid JSON"},
		{"trailing data", `{"id":"evt_1","type":"ticket.updated","data":{"id":"T","updated_at":"2026-01-01T00:00:00Z"}} {}`, "not valid JSON"},
		{"no event id", `{"type":"ticket.updated","data":{"id":"T","updated_at":"2026-01-01T00:00:00Z"}}`, "event id missing (expected at id)"},
		{"no object id", `{"id":"evt_2","type":"ticket.updated","data":{"updated_at":"2026-01-01T00:00:00Z"}}`, "object id missing (expected at data.id)"},
		{"bad version", `{"id":"evt_3","type":"ticket.updated","data":{"id":"T","updated_at":"yesterday"}}`, "object version at data.updated_at is not an RFC 3339 timestamp"},
	}
	for _, c := range cases {
		r := b.send(t, []byte(c.body))
		require.Equal(t, http.StatusBadRequest, r.status, c.name)
		require.Contains(t, r.body, c.message, c.name)
	}
	require.Equal(t, 0, b.countEvents(t))
	require.Equal(t, float64(len(cases)), received(b, webhook.OutcomeMalformed))
}

func TestUnknownEventTypeIsIgnored(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	// No object id either: an ignored event is not held to the schema.
	r := b.send(t, []byte(`{"id":"evt_x","type":"user.login"}`))
	require.Equal(t, http.StatusAccepted, r.status, r.body)
	require.JSONEq(t, `{"status":"ignored"}`, r.body)
	require.Equal(t, 0, b.countEvents(t))
	require.Equal(t, 0, b.countJobs(t))
	require.Equal(t, 1.0, received(b, webhook.OutcomeIgnored))
}

func TestUnknownAndDisconnectedConnections(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	body := ticketEvent("evt_1", "ticket.updated", "T-1", testNow, "")
	r := b.do(t, b.signed(t, "conn_nope", body, secretA, testNow, "msg_1"))
	require.Equal(t, http.StatusNotFound, r.status, r.body)
	r = b.do(t, b.signed(t, "conn_gone", body, secretA, testNow, "msg_2"))
	require.Equal(t, http.StatusGone, r.status, r.body)
	require.Equal(t, 0, b.countEvents(t))
	require.Equal(t, 2.0, received(b, webhook.OutcomeNotFound))
}

func TestConcurrentRequestsAreGroupCommitted(t *testing.T) {
	t.Parallel()
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// A linger makes batching certain even on a fast disk; without
			// it batches still form whenever requests overlap a commit.
			b := setup(t, options{open: open, cfg: &webhook.Config{Linger: 20 * time.Millisecond}})
			const requests, dups = 200, 20
			var wg sync.WaitGroup
			statuses := make([]int, requests)
			for i := range requests {
				wg.Go(func() {
					id := i
					if i >= requests-dups {
						id = i - (requests - dups) // repeats ids 0..19
					}
					body := ticketEvent(fmt.Sprintf("evt_%03d", id), "ticket.updated", fmt.Sprintf("T-%d", id), testNow, "")
					resp, err := b.srv.Client().Do(b.signed(t, connID, body, secretA, testNow, fmt.Sprintf("msg_%d", i)))
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					statuses[i] = resp.StatusCode
				})
			}
			wg.Wait()
			count := map[int]int{}
			for _, s := range statuses {
				count[s]++
			}
			require.Equal(t, map[int]int{http.StatusAccepted: requests - dups, http.StatusOK: dups}, count)
			require.Equal(t, requests-dups, b.countEvents(t))
			require.Equal(t, requests-dups, b.countJobs(t))
			require.Less(t, b.ingress.Commits(), int64(requests))
		})
	}
}

func TestPoisonedEventFailsAlone(t *testing.T) {
	t.Parallel()
	b := setup(t, options{poison: "evt_poison", cfg: &webhook.Config{Linger: 50 * time.Millisecond}})
	const n = 20
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("evt_%d", i)
			if i == 0 {
				id = "evt_poison"
			}
			resp, err := b.srv.Client().Do(b.signed(t, connID, ticketEvent(id, "ticket.updated", "T", testNow, ""), secretA, testNow, id))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	require.Equal(t, http.StatusInternalServerError, statuses[0])
	for i := 1; i < n; i++ {
		require.Equal(t, http.StatusAccepted, statuses[i], "request %d", i)
	}
	require.Equal(t, n-1, b.countEvents(t))
	require.Equal(t, n-1, b.countJobs(t))
	require.Equal(t, 1.0, received(b, webhook.OutcomeError))
}

func TestLogsCarryNoSecrets(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	body := ticketEvent("evt_log", "ticket.updated", "T-SECRETIVE-SUBJECT", testNow, "")
	bad := b.signed(t, connID, body, secretB, testNow, "msg_log")
	sigHeader := bad.Header.Get("webhook-signature")
	require.Equal(t, http.StatusUnauthorized, b.do(t, bad).status)
	require.Equal(t, http.StatusAccepted, b.send(t, body).status)
	req := b.signed(t, connID, []byte(`{"id":"evt_no_type"`), secretA, testNow, "msg_bad_json")
	require.Equal(t, http.StatusBadRequest, b.do(t, req).status)

	logs := b.logs.String()
	require.Contains(t, logs, "webhook signature rejected")
	require.Contains(t, logs, connID)
	for _, leak := range []string{secretA, secretB, strings.TrimPrefix(secretA, "whsec_"), strings.TrimPrefix(secretB, "whsec_"),
		sigHeader, strings.TrimPrefix(sigHeader, "v1,"), "T-SECRETIVE-SUBJECT", "Printer on fire"} {
		require.NotContains(t, logs, leak)
	}
}

func TestClosedIngressRefuses(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	require.Equal(t, http.StatusAccepted, b.send(t, ticketEvent("evt_1", "ticket.updated", "T", testNow, "")).status)
	require.NoError(t, b.ingress.Close())
	r := b.send(t, ticketEvent("evt_2", "ticket.updated", "T", testNow, ""))
	require.Equal(t, http.StatusServiceUnavailable, r.status, r.body)
	require.Equal(t, 1, b.countEvents(t))
}

func TestMetricsLabelsHaveNoConnectionID(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	require.Equal(t, http.StatusAccepted, b.send(t, ticketEvent("evt_1", "ticket.updated", "T", testNow, "")).status)
	families, err := b.reg.Gather()
	require.NoError(t, err)
	var found bool
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				require.NotEqual(t, connID, l.GetValue(), "metric %s labelled with a connection id", f.GetName())
			}
		}
		if f.GetName() == "accord_webhooks_received_total" {
			found = true
		}
	}
	require.True(t, found)
}

func TestShippedHelpdeskManifest(t *testing.T) {
	t.Parallel()
	p, diags := spec.LoadProvider("../../packs/support-escalation/providers/helpdesk.yaml")
	require.NoError(t, diags.Err())
	b := setup(t, options{provider: p})
	body := []byte(`{"id":"evt_shipped","type":"ticket.updated","data":{"id":"T-7","version":3,"subject":"Printer on fire"}}`)
	r := b.send(t, body)
	require.Equal(t, http.StatusAccepted, r.status, r.body)
	ev, err := b.st.GetEvent(context.Background(), tenantID, decodeReply(t, r).EventID)
	require.NoError(t, err)
	require.Equal(t, "T-7", ev.ObjectID)
	require.Equal(t, int64(3), ev.ObjectVersion)
	require.Equal(t, 1, b.countJobs(t))
}

func TestUnusableSecretIsOurErrorNotTheSenders(t *testing.T) {
	t.Parallel()
	b := setup(t, options{secrets: [][]byte{[]byte("whsec_not base64!")}})
	r := b.send(t, ticketEvent("evt_1", "ticket.updated", "T", testNow, ""))
	// 5xx: the partner retries once the secret is fixed; a 401 would make
	// it drop the event.
	require.Equal(t, http.StatusInternalServerError, r.status, r.body)
	require.Equal(t, 1.0, received(b, webhook.OutcomeError))
	require.NotContains(t, b.logs.String(), "not base64!")
}

func TestDispatchModeStoresPendingAndHandsOver(t *testing.T) {
	t.Parallel()
	runBoth(t, func(t *testing.T, o options) {
		var mu sync.Mutex
		var got []store.Event
		o.dispatch = func(evs []store.Event) {
			mu.Lock()
			got = append(got, evs...)
			mu.Unlock()
		}
		b := setup(t, o)
		body := ticketEvent("evt_fast", "ticket.updated", "T-7", testNow, "")
		r := b.send(t, body)
		require.Equal(t, http.StatusAccepted, r.status, r.body)
		a := decodeReply(t, r)

		ev, err := b.st.GetEvent(context.Background(), tenantID, a.EventID)
		require.NoError(t, err)
		require.Equal(t, store.EventPending, ev.State, "the fast path owns it; the sweeper takes over if it lingers")
		require.Zero(t, b.countJobs(t), "no job per event in dispatch mode")
		mu.Lock()
		require.Len(t, got, 1, "the committed event is handed over once its transaction committed")
		require.Equal(t, a.EventID, got[0].ID)
		mu.Unlock()

		// A duplicate is neither stored nor dispatched again.
		require.Equal(t, http.StatusOK, b.do(t, b.signed(t, connID, body, secretA, testNow, "msg_again")).status)
		mu.Lock()
		require.Len(t, got, 1)
		mu.Unlock()
	})
}
