package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/webhook"
	"github.com/accordhq/accord/internal/webhook/signature"
)

const ingressSecret = "whsec_dWktdGVzdC1oZWxwZGVzay1zZWNyZXQ="

// hooks is a webhook ingress on the bundle's store, for the helpdesk
// connection, whose accepted events are "delivered" at once: marked
// applied, as the engine does after its partner write.
type hooks struct {
	in        *webhook.Ingress
	url       string
	scheme    signature.Scheme
	delivered chan string
}

type noQueue struct{}

func (noQueue) InsertManyTx(context.Context, store.Tx, []river.InsertManyParams) ([]int64, error) {
	return nil, nil
}

type hookSecrets struct{}

func (hookSecrets) WebhookSecrets(context.Context, store.Connection) ([][]byte, error) {
	return [][]byte{[]byte(ingressSecret)}, nil
}

func (b *bundle) hooks(t *testing.T) *hooks {
	t.Helper()
	provider := &spec.Provider{Name: "helpdesk", Webhooks: &spec.Webhooks{
		Signature: spec.Signature{Scheme: spec.SigStandardWebhooks},
		EventID:   "id", EventType: "type", ObjectID: "data.id", ObjectVersion: "data.updated_at", VersionKind: "timestamp",
		Object: "data", Events: map[string]*spec.EventType{"ticket.updated": {Object: "ticket"}},
	}}
	h := &hooks{delivered: make(chan string, 16)}
	in, err := webhook.NewIngress(webhook.Deps{
		Store: b.st, Queue: noQueue{}, Secrets: hookSecrets{}, Logger: slog.New(slog.DiscardHandler),
		Providers: func(name string) (*spec.Provider, bool) { return provider, name == "helpdesk" },
		Dispatch: func(events []store.Event) {
			go func() {
				for _, e := range events {
					err := b.st.SetEventsState(context.Background(), []store.EventRef{{TenantID: e.TenantID, ID: e.ID, Outcome: "applied"}}, store.EventDone)
					if err != nil {
						h.delivered <- "error: " + err.Error()
						continue
					}
					h.delivered <- e.ID
				}
			}()
		},
	}, &webhook.Config{RejectionFlushInterval: time.Hour})
	require.NoError(t, err)
	t.Cleanup(func() { _ = in.Close() })
	mux := http.NewServeMux()
	mux.Handle(webhook.Pattern, in)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	h.in, h.url = in, srv.URL
	h.scheme, err = signature.New(spec.SigStandardWebhooks, signature.Options{})
	require.NoError(t, err)
	return h
}

// post sends body to the helpdesk connection signed with secret and
// returns the status.
func (h *hooks) post(t *testing.T, body, secret, delivery string) int {
	t.Helper()
	hdr, err := h.scheme.Sign([]byte(body), []byte(secret), time.Now(), delivery)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, h.url+"/hooks/conn_helpdesk", bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// cell returns the text of the row headed name in the table with id.
func cell(t *testing.T, body, table, name string) string {
	t.Helper()
	tbl := regexp.MustCompile(`(?s)<table[^>]*id="` + table + `"[^>]*>(.*?)</table>`).FindStringSubmatch(body)
	require.NotNil(t, tbl, "table %s", table)
	m := regexp.MustCompile(`(?s)<t[hd][^>]*>\s*` + regexp.QuoteMeta(name) + `\s*</t[hd]>\s*<td class="n">([^<]*)</td>`).FindStringSubmatch(tbl[1])
	require.NotNil(t, m, "row %q of table %s in %s", name, table, tbl[1])
	return m[1]
}

// parseLatency reads a latency as the page writes it ("307 ms", "3.9 s").
func parseLatency(t *testing.T, s string) time.Duration {
	t.Helper()
	var v float64
	var unit string
	_, err := fmt.Sscanf(s, "%g %s", &v, &unit)
	require.NoError(t, err, s)
	units := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "min": time.Minute, "h": time.Hour}
	require.Contains(t, units, unit, s)
	return time.Duration(v * float64(units[unit]))
}

// The page shows the percentiles of the receipt → write latency of the
// applied events: estimates, within the histogram bucket of the true
// figure. Seeded: in 24 hours 17 events applied 300 ms after receipt and
// one 4 s after.
func TestHealthPageLatency(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.browser(t)
	c.login(adminToken)
	status, body := c.get("/ui/t/acme/installations/inst_escalation")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "Receipt → write latency, Last 24 hours (18 applied events)")
	require.Contains(t, body, "Receipt → write latency, Last 7 days (21 applied events)")
	bucket := func(d time.Duration) (lo, hi time.Duration) {
		i := store.LatencyBucket(d)
		return store.LatencyBounds[i-1], store.LatencyBounds[i]
	}
	for _, table := range []string{"latency-day", "latency-week"} {
		lo, hi := bucket(300 * time.Millisecond)
		p50 := parseLatency(t, cell(t, body, table, "p50"))
		require.True(t, p50 >= lo-time.Millisecond && p50 <= hi, "%s p50 %s in [%s, %s]", table, p50, lo, hi)
		lo, hi = bucket(4 * time.Second)
		p99 := parseLatency(t, cell(t, body, table, "p99"))
		require.True(t, p99 >= lo-100*time.Millisecond && p99 <= hi+100*time.Millisecond, "%s p99 %s in [%s, %s]", table, p99, lo, hi)
	}
	require.Contains(t, body, "applied events by receipt → write latency", "the histogram chart's text alternative")
}

// Webhooks refused by the ingress are counted on the page by reason;
// accepted and delivered ones count as events; the writes waiting show
// as held while the installation is paused and as throttled while a
// partner asks to wait.
func TestHealthPageWebhookFigures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := b.hooks(t)
	ctx := t.Context()
	for i := range 3 {
		require.Equal(t, http.StatusUnauthorized, h.post(t, `{"id":"f`+strconv.Itoa(i)+`"}`, "whsec_Zm9yZ2VkLWJ5LWFuLWF0dGFja2VyLXg=", fmt.Sprint("f", i)))
	}
	require.Equal(t, http.StatusBadRequest, h.post(t, `{"id": "evt_x", "type": `, ingressSecret, "m1"))
	for i := range 2 {
		ev := fmt.Sprintf(`{"id":"hook_%d","type":"ticket.updated","data":{"id":"T-9%d","updated_at":"%s"}}`, i, i, time.Now().UTC().Format(time.RFC3339Nano))
		require.Equal(t, http.StatusAccepted, h.post(t, ev, ingressSecret, fmt.Sprint("d", i)))
	}
	for range 2 {
		require.NotContains(t, <-h.delivered, "error")
	}
	require.NoError(t, h.in.FlushRejections(ctx))

	c := b.browser(t)
	c.login(adminToken)
	status, body := c.get("/ui/t/acme/installations/inst_escalation")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "26 events: 20 applied, 2 failed", "the two delivered webhooks")
	for _, table := range []string{"rejected-day", "rejected-week"} {
		require.Equal(t, "3", cell(t, body, table, "bad signature (not signed with this connection&#39;s secret)"))
		require.Equal(t, "1", cell(t, body, table, "malformed (not an event Accord can read)"))
	}
	require.Contains(t, body, "Last 24 hours: 4 rejected")
	require.Equal(t, "1", cell(t, body, "waiting-writes", "Waiting to be written"), "the seeded event still queued")
	require.Equal(t, "0", cell(t, body, "waiting-writes", "Held"))

	require.NoError(t, b.st.SetInstallationState(ctx, "acme", "inst_escalation", store.InstallationPaused))
	until := time.Now().Add(time.Hour)
	require.NoError(t, b.st.HoldPartner(ctx, "acme", "incidents", until))
	_, body = c.get("/ui/t/acme/installations/inst_escalation")
	require.Equal(t, "1", cell(t, body, "waiting-writes", "Held (the integration is paused)"))
	require.Regexp(t, `Throttled \(Incidents asked to wait until <time[^>]*>[^<]+</time>\)</th><td class="n">1</td>`, body)
}
