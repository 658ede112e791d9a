package sim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/webhook/signature"
)

const hookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// receiver is a partner webhook endpoint that verifies every request with
// the standard-webhooks scheme, like Accord's ingress will.
type receiver struct {
	url   string
	clock *clock

	mu       sync.Mutex
	fail     int // answer 500 to this many more requests
	received []receivedHook
}

type receivedHook struct {
	ID, Type string
	Version  int
	Size     int
	VerifyOK bool
}

func newReceiver(t *testing.T, clk *clock) *receiver {
	t.Helper()
	rc := &receiver{clock: clk}
	scheme, err := signature.New("standard-webhooks", signature.Options{})
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		verr := scheme.Verify(signature.FromHTTP(r, body), [][]byte{[]byte(hookSecret)}, clk.Now())
		var ev struct {
			ID   string `json:"id"`
			Type string `json:"type"`
			Data struct {
				Version int `json:"version"`
			} `json:"data"`
		}
		_ = json.Unmarshal(body, &ev)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if rc.fail > 0 {
			rc.fail--
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		rc.received = append(rc.received, receivedHook{ID: ev.ID, Type: ev.Type, Version: ev.Data.Version, Size: len(body), VerifyOK: verr == nil})
		if r.Header.Get("webhook-id") != ev.ID {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	rc.url = srv.URL
	return rc
}

func (rc *receiver) failNext(n int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.fail = n
}

func (rc *receiver) ids() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, h := range rc.received {
		out = append(out, h.ID)
	}
	return out
}

func (rc *receiver) all() []receivedHook {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]receivedHook(nil), rc.received...)
}

type helpdeskBundle struct {
	sim    *sim.Helpdesk
	url    string
	clock  *clock
	sleeps *sleeps
	hook   *receiver
}

func setupHelpdesk(t *testing.T) helpdeskBundle {
	t.Helper()
	clk, sl := newClock(), &sleeps{}
	h := sim.NewHelpdesk(&sim.Config{Token: token, Now: clk.Now, Sleep: sl.Sleep, BaseURL: "http://helpdesk.test"})
	t.Cleanup(h.Stop)
	rc := newReceiver(t, clk)
	h.Subscribe(rc.url, hookSecret)
	return helpdeskBundle{sim: h, url: serve(t, h.Handler()), clock: clk, sleeps: sl, hook: rc}
}

func TestHelpdeskTicketsAPI(t *testing.T) {
	t.Parallel()
	b := setupHelpdesk(t)

	r := call(t, http.MethodPost, b.url+"/tickets", token, map[string]any{
		"title": "Printer on fire", "description": "3rd floor", "priority": "high", "customer_id": "C-9",
	})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	tk := r.JSON(t)
	require.Equal(t, "T-1", tk["id"])
	require.Equal(t, "open", tk["status"])
	require.Equal(t, "http://helpdesk.test/tickets/T-1", tk["url"])
	require.EqualValues(t, 1, tk["version"])
	require.Equal(t, b.clock.Now().Format(time.RFC3339Nano), tk["updated_at"])

	b.clock.Advance(time.Second)
	r = call(t, http.MethodPatch, b.url+"/tickets/T-1", token, map[string]any{"status": "escalated"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	tk = r.JSON(t)
	require.Equal(t, "escalated", tk["status"])
	require.Equal(t, "high", tk["priority"], "PATCH keeps absent fields")
	require.EqualValues(t, 2, tk["version"])
	require.Equal(t, b.clock.Now().Format(time.RFC3339Nano), tk["updated_at"])

	// A no-op patch is not a change.
	r = call(t, http.MethodPatch, b.url+"/tickets/T-1", token, map[string]any{"status": "escalated"})
	require.EqualValues(t, 2, r.JSON(t)["version"])

	r = call(t, http.MethodGet, b.url+"/tickets/T-1", token, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "Printer on fire", r.JSON(t)["title"])
	require.Equal(t, http.StatusNotFound, call(t, http.MethodGet, b.url+"/tickets/T-9", token, nil).Status)
	require.Equal(t, http.StatusNotFound, call(t, http.MethodPatch, b.url+"/tickets/T-9", token, map[string]any{"title": "x"}).Status)

	for _, bad := range []map[string]any{{"title": ""}, {"title": "x", "priority": "urgent"}, {"title": "x", "status": "pending"}} {
		r = call(t, http.MethodPost, b.url+"/tickets", token, bad)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, bad)
	}
	require.Equal(t, "title is required", call(t, http.MethodPost, b.url+"/tickets", token, map[string]any{}).ErrorMessage(t))

	require.Equal(t, http.StatusUnauthorized, call(t, http.MethodGet, b.url+"/tickets", "", nil).Status)
	require.Equal(t, http.StatusUnauthorized, call(t, http.MethodGet, b.url+"/tickets", "nope", nil).Status)
	require.Len(t, b.sim.Tickets(), 1)
}

func TestHelpdeskPagination(t *testing.T) {
	t.Parallel()
	b := setupHelpdesk(t)
	for i := range 5 {
		_, err := b.sim.CreateTicket(sim.Ticket{Title: "t" + strconv.Itoa(i)})
		require.NoError(t, err)
	}
	var ids []string
	cursor, pages := "", 0
	for {
		r := call(t, http.MethodGet, b.url+"/tickets?limit=2&cursor="+cursor, token, nil)
		require.Equal(t, http.StatusOK, r.Status)
		var page struct {
			Tickets    []sim.Ticket `json:"tickets"`
			NextCursor string       `json:"next_cursor"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &page))
		pages++
		for _, tk := range page.Tickets {
			ids = append(ids, tk.ID)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	require.Equal(t, []string{"T-1", "T-2", "T-3", "T-4", "T-5"}, ids)
	require.Equal(t, 3, pages)
	require.Equal(t, http.StatusBadRequest, call(t, http.MethodGet, b.url+"/tickets?cursor=zz", token, nil).Status)
	require.Equal(t, http.StatusBadRequest, call(t, http.MethodGet, b.url+"/tickets?limit=0", token, nil).Status)
}

func TestHelpdeskWebhooksAreSignedAndOrdered(t *testing.T) {
	t.Parallel()
	b := setupHelpdesk(t)
	tk, err := b.sim.CreateTicket(sim.Ticket{Title: "Printer on fire", Priority: "high"})
	require.NoError(t, err)
	_, err = b.sim.Escalate(tk.ID)
	require.NoError(t, err)
	_, err = b.sim.UpdateTicket(tk.ID, sim.TicketPatch{Description: ptr("smoke")})
	require.NoError(t, err)

	ds, err := b.sim.WaitDeliveries(t.Context(), 3)
	require.NoError(t, err)
	for _, d := range ds {
		require.True(t, d.OK, d)
		require.Equal(t, http.StatusNoContent, d.Status)
	}
	got := b.hook.all()
	require.Equal(t, []receivedHook{
		{ID: "evt_1", Type: "ticket.created", Version: 1, Size: got[0].Size, VerifyOK: true},
		{ID: "evt_2", Type: "ticket.updated", Version: 2, Size: got[1].Size, VerifyOK: true},
		{ID: "evt_3", Type: "ticket.updated", Version: 3, Size: got[2].Size, VerifyOK: true},
	}, got)

	esc, err := b.sim.Ticket(tk.ID)
	require.NoError(t, err)
	require.Equal(t, "escalated", esc.Status)
}

func TestHelpdeskWebhookRetries(t *testing.T) {
	t.Parallel()
	b := setupHelpdesk(t)
	b.hook.failNext(2)
	_, err := b.sim.CreateTicket(sim.Ticket{Title: "x"})
	require.NoError(t, err)

	ds, err := b.sim.WaitDeliveries(t.Context(), 1)
	require.NoError(t, err)
	require.True(t, ds[0].OK)
	require.Equal(t, 3, ds[0].Attempts)
	require.Equal(t, []string{"evt_1"}, b.hook.ids())
	require.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, b.sleeps.All(), "exponential backoff")

	// A subscriber that never recovers is given up on after the attempts.
	b.hook.failNext(100)
	_, err = b.sim.CreateTicket(sim.Ticket{Title: "y"})
	require.NoError(t, err)
	ds, err = b.sim.WaitDeliveries(t.Context(), 2)
	require.NoError(t, err)
	require.False(t, ds[1].OK)
	require.Equal(t, 4, ds[1].Attempts)
	require.Equal(t, http.StatusInternalServerError, ds[1].Status)
}

func TestHelpdeskWebhookFaults(t *testing.T) {
	t.Parallel()
	t.Run("duplicate", func(t *testing.T) {
		t.Parallel()
		b := setupHelpdesk(t)
		require.NoError(t, b.sim.Inject(sim.Fault{Kind: sim.FaultDuplicate}))
		_, err := b.sim.CreateTicket(sim.Ticket{Title: "x"})
		require.NoError(t, err)
		_, err = b.sim.CreateTicket(sim.Ticket{Title: "y"})
		require.NoError(t, err)
		ds, err := b.sim.WaitDeliveries(t.Context(), 3)
		require.NoError(t, err)
		require.True(t, ds[1].Duplicate)
		require.Equal(t, []string{"evt_1", "evt_1", "evt_2"}, b.hook.ids())
		for _, h := range b.hook.all() {
			require.True(t, h.VerifyOK)
		}
	})
	t.Run("reorder", func(t *testing.T) {
		t.Parallel()
		b := setupHelpdesk(t)
		require.NoError(t, b.sim.Inject(sim.Fault{Kind: sim.FaultReorder}))
		tk, err := b.sim.CreateTicket(sim.Ticket{Title: "x"})
		require.NoError(t, err)
		_, err = b.sim.Escalate(tk.ID)
		require.NoError(t, err)
		_, err = b.sim.CreateTicket(sim.Ticket{Title: "y"})
		require.NoError(t, err)
		ds, err := b.sim.WaitDeliveries(t.Context(), 3)
		require.NoError(t, err)
		require.True(t, ds[1].Reordered)
		require.Equal(t, []string{"evt_2", "evt_1", "evt_3"}, b.hook.ids())
		got := b.hook.all()
		require.Equal(t, []int{2, 1, 1}, []int{got[0].Version, got[1].Version, got[2].Version}, "the stale version arrives last")
	})
	t.Run("oversized", func(t *testing.T) {
		t.Parallel()
		b := setupHelpdesk(t)
		require.NoError(t, b.sim.Inject(sim.Fault{Kind: sim.FaultOversized, Webhook: true, Size: 2 << 20}))
		_, err := b.sim.CreateTicket(sim.Ticket{Title: "x"})
		require.NoError(t, err)
		_, err = b.sim.WaitDeliveries(t.Context(), 1)
		require.NoError(t, err)
		got := b.hook.all()
		require.Greater(t, got[0].Size, 2<<20)
		require.True(t, got[0].VerifyOK, "oversized but correctly signed")
	})
}

func ptr[T any](v T) *T { return &v }
