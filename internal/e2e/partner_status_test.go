package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/web/status"
)

// TestPartnerDegradedIsNotifiedOncePerTransition: the incidents partner
// fails a run of calls; the tenant whose installation uses it hears
// partner.degraded once, however often the monitor checks and however
// many processes record the verdict, then partner.recovered once when
// calls succeed again. A tenant without an installation over the partner
// hears nothing.
func TestPartnerDegradedIsNotifiedOncePerTransition(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := setupWith(t, b, &setupOptions{Status: &status.Config{
				SampleEvery: 20 * time.Millisecond, Window: 2 * time.Second, MinCalls: 4, ErrorRate: 0.5}})
			ctx := t.Context()
			acme := newNotifyHost(t, e, tenantID)
			_, err := e.api().CreateTenant(ctx, "globex", "Globex")
			require.NoError(t, err)
			globex := newNotifyHost(t, e, "globex")

			// A second process's watcher, judging the same calls, races
			// this one's to record every transition.
			other := status.NewWatcher(e.app.Partners, e.app.Store, nil)
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					select {
					case <-stop:
						return
					case <-time.After(5 * time.Millisecond):
					}
					_, _ = other.Check(ctx)
				}
			}()
			t.Cleanup(func() { close(stop); <-done })

			// The partner fails every call until it is reported degraded:
			// each escalation's write is retried into the faults.
			require.NoError(t, e.incidents.Inject(sim.Fault{Kind: sim.FaultServerError, Count: 1_000_000}))
			e.escalate("partner down", "high", "")
			for i := 0; len(acme.partner("partner.degraded")) == 0; i++ {
				require.Less(t, i, int(waitFor/(50*time.Millisecond)), "the tenant using the partner hears it is degraded")
				if i%10 == 0 {
					e.escalate("partner still down", "high", "")
				}
				time.Sleep(50 * time.Millisecond)
			}
			deg := acme.partner("partner.degraded")[0]
			require.Equal(t, "incidents", deg.Provider)
			require.Equal(t, "degraded", deg.Status)
			require.Equal(t, "errors", deg.Reason)

			// Calls succeed again: the held writes go through, and more
			// traffic fills the window with successes.
			e.incidents.ClearFaults()
			for i := 0; len(acme.partner("partner.recovered")) == 0; i++ {
				require.Less(t, i, int(waitFor/(50*time.Millisecond)), "no partner.recovered")
				if i%4 == 0 {
					e.escalate("partner back", "high", "")
				}
				time.Sleep(50 * time.Millisecond)
			}
			rec := acme.partner("partner.recovered")[0]
			require.Equal(t, "incidents", rec.Provider)
			require.Equal(t, "healthy", rec.Status)

			// Checks go on; transitions are sent once each.
			e.barrier()
			again, err := other.Check(ctx)
			require.NoError(t, err)
			require.Empty(t, again, "a recorded transition is not recorded again")
			require.Len(t, acme.partner("partner.degraded"), 1, "%v", acme.all())
			require.Len(t, acme.partner("partner.recovered"), 1, "%v", acme.all())
			require.Empty(t, globex.all(), "a tenant without the partner hears nothing")
		})
	}
}

// notifyHost is a tenant's notification endpoint: it keeps the messages whose
// Standard Webhooks signature verifies.
type notifyHost struct {
	mu     sync.Mutex
	secret string
	got    []partnerNotice
}

type partnerNotice struct {
	ID       string `json:"-"` // webhook-id: one per message, the same on a redelivery
	Type     string `json:"type"`
	TenantID string `json:"tenant_id"`
	Data     struct {
		Provider string `json:"provider"`
		Status   string `json:"status"`
		Reason   string `json:"reason"`
	} `json:"data"`
}

type partnerNoticeData struct{ ID, Provider, Status, Reason string }

func newNotifyHost(t *testing.T, e *env, tenant string) *notifyHost {
	t.Helper()
	h := &notifyHost{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		wh, err := standardwebhooks.NewWebhook(h.secret)
		if err != nil || wh.Verify(body, r.Header) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m partnerNotice
		require.NoError(t, json.Unmarshal(body, &m))
		require.Equal(t, tenant, m.TenantID)
		m.ID = r.Header.Get("webhook-id")
		h.got = append(h.got, m)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	code, ep := e.call(http.MethodPost, "/api/v1/tenants/"+tenant+"/notification-endpoints", map[string]any{"url": srv.URL})
	require.Equal(t, http.StatusCreated, code, ep)
	h.mu.Lock()
	h.secret = ep["secret"].(string)
	h.mu.Unlock()
	return h
}

// partner returns the verified messages of type typ about a partner.
func (h *notifyHost) partner(typ string) []partnerNoticeData {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []partnerNoticeData
	for _, m := range h.got {
		if m.Type == typ {
			out = append(out, partnerNoticeData{m.ID, m.Data.Provider, m.Data.Status, m.Data.Reason})
		}
	}
	return out
}

// all returns the types of every verified message.
func (h *notifyHost) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, m := range h.got {
		out = append(out, m.Type)
	}
	return out
}
