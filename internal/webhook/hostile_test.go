package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/webhook"
	"github.com/accordhq/accord/internal/webhook/signature"
)

// storedPayload reads back the payload of an accepted event.
func storedPayload(t *testing.T, b *bundle, r reply) store.Event {
	t.Helper()
	require.Equal(t, http.StatusAccepted, r.status, r.body)
	ev, err := b.st.GetEvent(context.Background(), tenantID, decodeReply(t, r).EventID)
	require.NoError(t, err)
	return ev
}

func note(t *testing.T, ev store.Event) string {
	t.Helper()
	var doc struct {
		Data struct {
			Note string `json:"note"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(ev.Payload, &doc))
	return doc.Data.Note
}

// A signed body the database cannot store as is must not be answered
// "retry later" forever: it is stored cleaned, or refused at once.
func TestPoisonPayloadsAreStoredCleanOrRefused(t *testing.T) {
	t.Parallel()
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, options{open: open})

			// \u0000 inside a string: PostgreSQL's jsonb refuses it.
			ev := storedPayload(t, b, b.send(t, ticketEvent("evt_nul", "ticket.updated", "T-1", testNow, `,"note":"a\u0000b"`)))
			require.NotContains(t, string(ev.Payload), `\u0000`)
			require.Equal(t, "a\uFFFDb", note(t, ev))

			// Invalid UTF-8 bytes: PostgreSQL refuses them in text and jsonb.
			ev = storedPayload(t, b, b.send(t, ticketEvent("evt_utf8", "ticket.updated", "T-1", testNow, ",\"note\":\"a\xff\xfeb\"")))
			require.True(t, utf8.Valid(ev.Payload))
			require.Equal(t, "a\uFFFDb", note(t, ev)) // one U+FFFD per run of bad bytes

			// A lone surrogate escape: jsonb refuses it too.
			ev = storedPayload(t, b, b.send(t, ticketEvent("evt_surrogate", "ticket.updated", "T-1", testNow, `,"note":"\ud800x\udc00"`)))
			require.NotContains(t, strings.ToLower(string(ev.Payload)), `\ud800`)
			require.Equal(t, "\uFFFDx\uFFFD", note(t, ev))

			// A NUL and invalid UTF-8 in the ids, which become text columns.
			ev = storedPayload(t, b, b.send(t, []byte("{\"id\":\"evt\\u0000\xffid\",\"type\":\"ticket.updated\",\"data\":{\"id\":\"T\\u0000\xff1\",\"updated_at\":\"2026-01-01T00:00:00Z\"}}")))
			require.Equal(t, "evt\uFFFD\uFFFDid", ev.DedupKey)
			require.Equal(t, "T\uFFFD\uFFFD1", ev.ObjectID)
			// The same id again is a duplicate of the cleaned one.
			r := b.send(t, []byte("{\"id\":\"evt\\u0000\xffid\",\"type\":\"ticket.updated\",\"data\":{\"id\":\"T\\u0000\xff1\",\"updated_at\":\"2026-01-01T00:00:00Z\"}}"))
			require.Equal(t, http.StatusOK, r.status, r.body)

			// Nested deeper than the limit: 400 at once, naming the limit.
			deep := strings.Repeat("[", 2000) + strings.Repeat("]", 2000)
			r = b.send(t, ticketEvent("evt_deep", "ticket.updated", "T-1", testNow, `,"deep":`+deep))
			require.Equal(t, http.StatusBadRequest, r.status, r.body)
			require.Contains(t, r.body, "nested deeper than 512 levels")
			// Just within the limit (the event object and data hold two).
			ok := strings.Repeat("[", 510) + strings.Repeat("]", 510)
			storedPayload(t, b, b.send(t, ticketEvent("evt_deep_ok", "ticket.updated", "T-1", testNow, `,"deep":`+ok)))

			// An id too long for a unique index: 400, not a database error.
			r = b.send(t, ticketEvent(strings.Repeat("e", 4000), "ticket.updated", "T-1", testNow, ""))
			require.Equal(t, http.StatusBadRequest, r.status, r.body)
			require.Contains(t, r.body, "longer than 512 bytes")

			// Unparseable: 400, never 500.
			for _, body := range []string{"\x00", `{"id":"a` + "\x00" + `"}`, "", "nul", `{"id":1e999999}`} {
				r = b.send(t, []byte(body))
				require.Equal(t, http.StatusBadRequest, r.status, "%q: %s", body, r.body)
			}
			require.Equal(t, 0.0, received(b, webhook.OutcomeError))
			require.Equal(t, 5, b.countEvents(t))
			// Rewritten payloads were reserved from the body budget and
			// given back.
			require.Equal(t, int64(0), webhook.BytesInFlight(b.ingress))
		})
	}
}

// githubProvider takes its event id from X-GitHub-Delivery, which the
// signature does not cover.
func githubProvider() *spec.Provider {
	return &spec.Provider{
		Name: "helpdesk",
		Webhooks: &spec.Webhooks{
			Signature: spec.Signature{Scheme: spec.SigGitHub},
			EventID:   "header:X-GitHub-Delivery",
			EventType: "header:X-GitHub-Event",
			ObjectID:  "issue.id",
			Events:    map[string]*spec.EventType{"issues": {Object: "issue"}},
		},
	}
}

func TestReplayUnderANewDeliveryIDIsADuplicate(t *testing.T) {
	t.Parallel()
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, options{open: open, provider: githubProvider(), secrets: [][]byte{[]byte("gh-secret")}})
			gh, err := signature.New(spec.SigGitHub, signature.Options{})
			require.NoError(t, err)
			send := func(body, delivery string) reply {
				h, err := gh.Sign([]byte(body), []byte("gh-secret"), testNow, "")
				require.NoError(t, err)
				req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/hooks/"+connID, strings.NewReader(body))
				require.NoError(t, err)
				for k, v := range h {
					req.Header[k] = v
				}
				req.Header.Set("X-GitHub-Event", "issues")
				req.Header.Set("X-GitHub-Delivery", delivery)
				return b.do(t, req)
			}
			body := `{"action":"opened","issue":{"id":42}}`
			require.Equal(t, http.StatusAccepted, send(body, "d-1").status)
			// The captured request, replayed with a fresh delivery id.
			r := send(body, "d-2")
			require.Equal(t, http.StatusOK, r.status, r.body)
			require.JSONEq(t, `{"status":"duplicate"}`, r.body)
			// A different body is a different event.
			require.Equal(t, http.StatusAccepted, send(`{"action":"closed","issue":{"id":42}}`, "d-3").status)
			require.Equal(t, 2, b.countEvents(t))
		})
	}
}

// hungStore's transactions never finish on their own: only their context
// ends them.
type hungStore struct {
	store.Store
	calls atomic.Int64
}

func (h *hungStore) InTx(ctx context.Context, _ func(context.Context, store.Tx) error) error {
	h.calls.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

func TestHungCommitAnswersAnErrorInsteadOfHanging(t *testing.T) {
	t.Parallel()
	for _, group := range []bool{true, false} {
		t.Run(fmt.Sprintf("group_commit=%v", group), func(t *testing.T) {
			t.Parallel()
			hung := &hungStore{}
			b := setup(t, options{
				cfg:  &webhook.Config{DisableGroupCommit: !group, CommitTimeout: 50 * time.Millisecond},
				wrap: func(st store.Store) store.Store { hung.Store = st; return hung },
			})
			done := make(chan reply, 1)
			go func() { done <- b.send(t, ticketEvent("evt_hung", "ticket.updated", "T-1", testNow, "")) }()
			select {
			case r := <-done:
				require.Equal(t, http.StatusInternalServerError, r.status, r.body)
			case <-time.After(10 * time.Second):
				require.FailNow(t, "the request is still waiting for a hung commit")
			}
			require.Positive(t, hung.calls.Load())
			require.Equal(t, 0, b.countEvents(t))
			require.Equal(t, 0.0, received(b, webhook.OutcomeAccepted))
		})
	}
}

func TestForgedRequestWarningsAreRateLimited(t *testing.T) {
	t.Parallel()
	var now atomic.Int64
	now.Store(testNow.UnixNano())
	b := setup(t, options{now: func() time.Time { return time.Unix(0, now.Load()) }})
	body := ticketEvent("evt_forged", "ticket.updated", "T-1", testNow, "")
	for i := range 20 {
		r := b.do(t, b.signed(t, connID, body, secretB, testNow, fmt.Sprintf("msg_f%d", i)))
		require.Equal(t, http.StatusUnauthorized, r.status)
	}
	require.Equal(t, 1, strings.Count(b.logs.String(), "webhook signature rejected"), b.logs.String())

	// Ten seconds on, the next one is logged with the count held back.
	now.Add(int64(11 * time.Second))
	r := b.do(t, b.signed(t, connID, body, secretB, time.Unix(0, now.Load()), "msg_f_late"))
	require.Equal(t, http.StatusUnauthorized, r.status)
	logs := b.logs.String()
	require.Equal(t, 2, strings.Count(logs, "webhook signature rejected"), logs)
	require.Contains(t, logs, "suppressed=19")
	// Another connection has its own allowance.
	r = b.do(t, b.signed(t, otherConnID, body, secretB, time.Unix(0, now.Load()), "msg_f_other"))
	require.Equal(t, http.StatusUnauthorized, r.status)
	require.Equal(t, 3, strings.Count(b.logs.String(), "webhook signature rejected"))
	require.Equal(t, 22.0, received(b, webhook.OutcomeBadSignature))
}

// slackProvider reads Slack interactivity payloads.
func slackProvider(eventID, eventType, objectID string) *spec.Provider {
	return &spec.Provider{
		Name: "helpdesk",
		Webhooks: &spec.Webhooks{
			Signature: spec.Signature{Scheme: spec.SigSlack},
			EventID:   eventID,
			EventType: eventType,
			ObjectID:  objectID,
			Events: map[string]*spec.EventType{
				"block_actions": {Object: "message"},
				"/escalate":     {Object: "message"},
			},
		},
	}
}

func TestSlackFormBodies(t *testing.T) {
	t.Parallel()
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	// signSlack signs the way Slack does: HMAC-SHA256 over v0:timestamp:body.
	post := func(t *testing.T, b *bundle, body string) reply {
		s, err := signature.New(spec.SigSlack, signature.Options{})
		require.NoError(t, err)
		h, err := s.Sign([]byte(body), []byte(secret), testNow, "")
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/hooks/"+connID, strings.NewReader(body))
		require.NoError(t, err)
		for k, v := range h {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return b.do(t, req)
	}
	t.Run("interactivity payload", func(t *testing.T) {
		t.Parallel()
		b := setup(t, options{provider: slackProvider("trigger_id", "type", "container.message_ts"), secrets: [][]byte{[]byte(secret)}})
		payload := `{"type":"block_actions","trigger_id":"13345224609.738474920.8088930838d88f008e0","container":{"message_ts":"1548261231.000200"}}`
		body := url.Values{"payload": {payload}}.Encode()
		ev := storedPayload(t, b, post(t, b, body))
		require.Equal(t, "13345224609.738474920.8088930838d88f008e0", ev.DedupKey)
		require.Equal(t, "block_actions", ev.Type)
		require.Equal(t, "1548261231.000200", ev.ObjectID)
		require.JSONEq(t, payload, string(ev.Payload))
	})
	t.Run("slash command fields", func(t *testing.T) {
		t.Parallel()
		b := setup(t, options{provider: slackProvider("trigger_id", "command", "channel_id"), secrets: [][]byte{[]byte(secret)}})
		body := "token=x&team_id=T1&channel_id=C42&command=%2Fescalate&text=printer+on+fire&trigger_id=398738663015.47445629121"
		ev := storedPayload(t, b, post(t, b, body))
		require.Equal(t, "/escalate", ev.Type)
		require.Equal(t, "C42", ev.ObjectID)
		require.JSONEq(t, `{"token":"x","team_id":"T1","channel_id":"C42","command":"/escalate","text":"printer on fire","trigger_id":"398738663015.47445629121"}`, string(ev.Payload))

		// Tampering with the form breaks the signature over the raw body.
		s, err := signature.New(spec.SigSlack, signature.Options{})
		require.NoError(t, err)
		h, err := s.Sign([]byte(body), []byte(secret), testNow, "")
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/hooks/"+connID, strings.NewReader(strings.Replace(body, "C42", "C43", 1)))
		require.NoError(t, err)
		for k, v := range h {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		require.Equal(t, http.StatusUnauthorized, b.do(t, req).status)

		// A payload field that is not JSON is the sender's mistake: 400.
		require.Equal(t, http.StatusBadRequest, post(t, b, "payload=%7Bnope").status)
	})
}

// slowBody trickles a body a few bytes at a time until stop closes.
type slowBody struct {
	stop <-chan struct{}
	sent int
	max  int
}

func (s *slowBody) Read(p []byte) (int, error) {
	select {
	case <-s.stop:
		return 0, fmt.Errorf("sender gave up")
	case <-time.After(5 * time.Millisecond):
	}
	if s.sent >= s.max {
		<-s.stop
		return 0, fmt.Errorf("sender gave up")
	}
	n := min(len(p), 64)
	for i := range n {
		p[i] = ' '
	}
	s.sent += n
	return n, nil
}

func TestSlowSendersCannotStarveSignedWebhooks(t *testing.T) {
	t.Parallel()
	const budget = 512 << 10
	b := setup(t, options{cfg: &webhook.Config{
		MaxBytesInFlight: budget, MaxConcurrentPerConnection: 32, ConnectionSlotWait: 200 * time.Millisecond,
	}})

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var refused atomic.Int64
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/hooks/"+otherConnID, &slowBody{stop: stop, max: 64 << 10})
			if err != nil {
				return
			}
			req.ContentLength = 900 << 10 // declared, never sent
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				return
			}
			if resp.StatusCode == http.StatusServiceUnavailable {
				if resp.Header.Get("Retry-After") != "" {
					refused.Add(1)
				}
			}
			resp.Body.Close()
		}()
	}
	// While they trickle, signed webhooks to another connection go through.
	time.Sleep(100 * time.Millisecond)
	for i := range 20 {
		r := b.send(t, ticketEvent(fmt.Sprintf("evt_slow_%d", i), "ticket.updated", "T-1", testNow, ""))
		require.Equal(t, http.StatusAccepted, r.status, r.body)
	}
	require.Eventually(t, func() bool { return refused.Load() >= 200-32 }, 10*time.Second, 10*time.Millisecond,
		"senders past the per-connection cap are refused with Retry-After")
	close(stop)
	wg.Wait()
	require.Equal(t, 20, b.countEvents(t))
	require.LessOrEqual(t, webhook.BytesInFlightPeak(b.ingress), int64(budget))
	require.Positive(t, webhook.BytesInFlightPeak(b.ingress))
	require.Eventually(t, func() bool { return webhook.BytesInFlight(b.ingress) == 0 }, 5*time.Second, 10*time.Millisecond)
}

func TestInFlightBudgetRefusesWithRetryAfter(t *testing.T) {
	t.Parallel()
	b := setup(t, options{cfg: &webhook.Config{MaxBytesInFlight: 16 << 10}})
	r := b.send(t, ticketEvent("evt_fits", "ticket.updated", "T-1", testNow, ""))
	require.Equal(t, http.StatusAccepted, r.status, r.body)

	big := ticketEvent("evt_big", "ticket.updated", "T-1", testNow, `,"x":"`+strings.Repeat("y", 64<<10)+`"`)
	req := b.signed(t, connID, big, secretA, testNow, "msg_big")
	resp, err := b.srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	require.LessOrEqual(t, webhook.BytesInFlightPeak(b.ingress), int64(16<<10))
	require.Equal(t, int64(0), webhook.BytesInFlight(b.ingress))
}
