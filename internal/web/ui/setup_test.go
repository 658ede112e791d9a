package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/access"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/sqlite"
	"github.com/accordhq/accord/internal/web/api"
	"github.com/accordhq/accord/internal/web/status"
	"github.com/accordhq/accord/internal/web/ui"
)

const adminToken = "ui-test-admin-token"

// recordingQueue stands in for River: tests check what a retry queued.
type recordingQueue struct {
	mu    sync.Mutex
	kinds []string
}

func (q *recordingQueue) InsertTx(_ context.Context, _ store.Tx, args river.JobArgs, _ *river.InsertOpts) (int64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.kinds = append(q.kinds, args.Kind())
	return int64(len(q.kinds)), nil
}

func (q *recordingQueue) queued() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.kinds...)
}

// bundle is a served API and UI over SQLite with a demo-like tenant: the
// escalation contract installed over a helpdesk, an incidents and a chat
// connection, a day of events and two open record errors.
type bundle struct {
	st     store.Store
	queue  *recordingQueue
	url    string
	client *api.Client // admin
	inst   store.Installation
	conns  map[string]store.Connection
	errIDs []string
	// partner calls as the connector and engine count them, read by the
	// status monitor on the clock statusAt (Unix nanoseconds).
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	statusAt atomic.Int64
	// storeAt is the store's clock (Unix nanoseconds), 0 for the real
	// one: set while seeding, so each seeded event is done (its receipt →
	// write latency) when the test says.
	storeAt atomic.Int64
}

// partnerCalls records n calls to provider with outcome and latency, then
// moves the status monitor's clock on by a minute.
func (b *bundle) partnerCalls(provider, outcome string, n int, latency time.Duration) {
	for range n {
		b.requests.WithLabelValues(provider, "create", outcome).Inc()
		b.duration.WithLabelValues(provider, "create").Observe(latency.Seconds())
	}
	b.statusAt.Add(int64(time.Minute))
}

type setupOptions struct {
	frameAncestors []string
	// reconnect, when set, is the UI's Deps.Reconnect.
	reconnect func(ctx context.Context, tenant, id, returnURL string) (string, error)
	// queue, when set, is the UI's Deps.Queue.
	queue http.Handler
	// syncer, when set, is the API's Deps.Syncer, and the contract's
	// trigger also runs on a schedule.
	syncer api.Syncer
}

func setup(t *testing.T) *bundle { return setupWith(t, setupOptions{}) }

func setupWith(t *testing.T, o setupOptions) *bundle {
	t.Helper()
	ctx := t.Context()
	b := &bundle{queue: &recordingQueue{}, conns: map[string]store.Connection{}}
	b.st = sqlite.OpenTestConfig(t, &sqlite.Config{Now: func() time.Time {
		if at := b.storeAt.Load(); at != 0 {
			return time.Unix(0, at)
		}
		return time.Now()
	}})
	signer, err := access.NewSigner(access.DeriveKey([]byte("ui test master key"), "ui"))
	require.NoError(t, err)
	providers := map[string]*spec.Provider{
		"helpdesk":  {Name: "helpdesk", Title: "Helpdesk", Scopes: []spec.Scope{{Name: "tickets.read", Description: "Read tickets"}}},
		"incidents": {Name: "incidents", Title: "Incidents", Scopes: []spec.Scope{{Name: "incidents.write", Description: "Create incidents"}}},
		"chat":      {Name: "chat", Title: "Chat"},
	}
	contract := &spec.Contract{Name: "escalation", Version: "1.0.0", Title: "Escalate tickets to incidents",
		Story:     "As a support manager, when a ticket is escalated, an incident is created.",
		Providers: []string{"helpdesk", "incidents", "chat"},
		Triggers: map[string]*spec.Trigger{"escalated": {Name: "escalated",
			Webhook: &spec.WebhookTrigger{Provider: "helpdesk", Events: []string{"ticket.updated"}}}},
		Actions: []*spec.Action{{Trigger: "escalated", Provider: "incidents", Object: "incident", Op: spec.OpCreate}},
	}
	if o.syncer != nil {
		contract.Triggers["escalated"].Schedule = &spec.ScheduleTrigger{Provider: "helpdesk", Object: "ticket", Every: spec.Duration(15 * time.Minute)}
	}
	versions := map[string]map[string]*spec.Contract{"escalation": {"1.0.0": contract}}
	reg := prometheus.NewRegistry()
	b.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "accord_partner_requests_total"}, []string{"provider", "operation", "outcome"})
	b.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "accord_action_duration_seconds"}, []string{"provider", "op"})
	reg.MustRegister(b.requests, b.duration)
	b.statusAt.Store(time.Now().UnixNano())
	monitor := status.NewMonitor(reg, &status.Config{Now: func() time.Time { return time.Unix(0, b.statusAt.Load()) }})
	admin := api.New(api.Deps{Store: b.st, Queue: b.queue, Token: adminToken, Signer: signer, Status: monitor,
		Providers: providers, Contracts: map[string]*spec.Contract{"escalation": contract}, Versions: versions, Syncer: o.syncer})
	pages, err := ui.New(ui.Deps{Store: b.st, API: admin, Signer: signer, Providers: providers, Versions: versions,
		Reconnect: o.reconnect, Status: monitor, Queue: o.queue}, &ui.Config{AdminToken: adminToken, FrameAncestors: o.frameAncestors})
	require.NoError(t, err)
	root := http.NewServeMux()
	for p, h := range admin.Routes() {
		root.Handle(p, h)
	}
	for p, h := range pages.Routes() {
		root.Handle(p, h)
	}
	srv := httptest.NewServer(root)
	t.Cleanup(srv.Close)
	b.url = srv.URL
	b.client = &api.Client{BaseURL: srv.URL, Token: adminToken}

	now := time.Now().UTC()
	for _, id := range []string{"acme", "globex"} {
		require.NoError(t, b.st.CreateTenant(ctx, store.Tenant{ID: id, Name: strings.ToUpper(id[:1]) + id[1:] + " Corp"}))
	}
	conns := map[string]string{}
	for _, p := range []string{"helpdesk", "incidents", "chat"} {
		c := store.Connection{TenantID: "acme", ID: "conn_" + p, Provider: p, State: store.ConnectionActive}
		require.NoError(t, b.st.CreateConnection(ctx, c))
		b.conns[p] = c
		conns[p] = c.ID
	}
	b.inst = store.Installation{TenantID: "acme", ID: "inst_escalation", Contract: "escalation", ContractVersion: "1.0.0",
		State: store.InstallationActive, Connections: conns}
	require.NoError(t, b.st.CreateInstallation(ctx, b.inst))
	// A day of traffic: 18 applied, 2 failed, 3 filtered, 1 still queued;
	// 3 applied a week ago.
	for i := range 27 {
		received, outcome := now.Add(-time.Duration(i)*40*time.Minute), "applied"
		switch {
		case i < 1:
			outcome = ""
		case i < 3:
			outcome = "failed"
		case i < 6:
			outcome = "filtered"
		case i >= 24:
			received = now.Add(-time.Duration(i-20) * 24 * time.Hour)
		}
		id := fmt.Sprintf("evt_%02d", i)
		payload := json.RawMessage(`{}`)
		if i == 1 {
			payload = json.RawMessage(`{"ticket":{"id":"T-1","title":"Checkout fails","priority":"urgent",
				"requester":{"email":"ann.smith@example.com"},"api_token":"sekret-123"}}`)
		}
		_, err := b.st.InsertEvent(ctx, store.Event{TenantID: "acme", ID: id, ConnectionID: "conn_helpdesk", DedupKey: "hd-" + id,
			Type: "ticket.updated", ObjectID: fmt.Sprintf("T-%d", i), ObjectVersion: 1, Payload: payload, ReceivedAt: received})
		require.NoError(t, err)
		if outcome != "" {
			// Applied 300 ms after receipt, the newest applied one 4 s.
			latency := 300 * time.Millisecond
			if i == 6 {
				latency = 4 * time.Second
			}
			b.storeAt.Store(received.Add(latency).UnixNano())
			require.NoError(t, b.st.SetEventsState(ctx, []store.EventRef{{TenantID: "acme", ID: id, Outcome: outcome}}, store.EventDone))
		}
	}
	b.storeAt.Store(0)
	for i, e := range []struct{ class, msg, fix string }{
		{"validation", "severity must be one of 1..4", "Map the ticket priority to a severity the incident tool accepts, then retry."},
		{"permission", "403: token lacks incidents.write", "Grant the incidents.write scope to the connection, then retry."},
	} {
		id := fmt.Sprintf("re_%d", i+1)
		require.NoError(t, b.st.InsertRecordError(ctx, store.RecordError{TenantID: "acme", ID: id, InstallationID: b.inst.ID,
			EventID: fmt.Sprintf("evt_%02d", i+1), Object: "ticket", SourceID: fmt.Sprintf("T-%d", i+1), Class: e.class,
			Message: e.msg, Remediation: e.fix, Status: store.RecordErrorOpen, JobKind: "deliver_event",
			JobArgs:   json.RawMessage(fmt.Sprintf(`{"tenant_id":"acme","event_id":"evt_%02d"}`, i+1)),
			CreatedAt: now.Add(-time.Duration(i+1) * 40 * time.Minute)}))
		b.errIDs = append(b.errIDs, id)
	}
	return b
}

// token creates an API token with role (bound to tenant if set) and
// returns its secret.
func (b *bundle) token(t *testing.T, role, tenant string) string {
	t.Helper()
	tok, err := b.client.CreateToken(t.Context(), api.TokenInput{Name: role + " test", Role: role, TenantID: tenant})
	require.NoError(t, err)
	return tok.Secret
}

// browser is a plain HTTP client with a cookie jar, sending the Origin a
// browser sends on a form post.
type browser struct {
	t    *testing.T
	b    *bundle
	http *http.Client
}

func (b *bundle) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, b: b, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches path and returns the status and body.
func (c *browser) get(path string) (int, string) {
	c.t.Helper()
	resp, err := c.http.Get(c.b.url + path)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, string(raw)
}

// post submits a form from page (whose CSRF token it uses) to path.
func (c *browser) post(page, path string, form url.Values) *http.Response {
	c.t.Helper()
	_, body := c.get(page)
	m := csrfField.FindStringSubmatch(body)
	require.NotNil(c.t, m, "no csrf token on %s", page)
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("csrf") {
		form.Set("csrf", m[1])
	}
	req, err := http.NewRequest(http.MethodPost, c.b.url+path, strings.NewReader(form.Encode()))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.b.url)
	resp, err := c.http.Do(req)
	require.NoError(c.t, err)
	resp.Body.Close()
	return resp
}

// login signs in with token.
func (c *browser) login(token string) {
	c.t.Helper()
	resp := c.post("/ui/login", "/ui/login", url.Values{"token": {token}})
	require.Equal(c.t, http.StatusSeeOther, resp.StatusCode)
}

var regexpAsset = regexp.MustCompile(`href="(/ui/static/app\.[0-9a-f]+\.css)"`)

func apiTokenInput(role string) api.TokenInput {
	return api.TokenInput{Name: role + " test", Role: role}
}
