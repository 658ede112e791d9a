package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/access"
	"github.com/accordhq/accord/internal/connection"
	"github.com/accordhq/accord/internal/notify"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/uninstall"
	"github.com/accordhq/accord/internal/web/api"
	"github.com/accordhq/accord/internal/web/status"
)

// queuesOne is a syncer that queues one trigger's run.
type queuesOne struct{ store store.Store }

func (queuesOne) RunNow(context.Context, string, string) ([]string, error) {
	return []string{"customers"}, nil
}

// TestRecord answers what a real test sync answers, for one record.
func (queuesOne) TestRecord(_ context.Context, _, _, trigger, objectID string) (any, error) {
	if trigger != "customer" {
		return nil, fmt.Errorf("%w: no trigger %q", api.ErrBadTest, trigger)
	}
	return map[string]any{"trigger": trigger, "object_id": objectID, "event_id": "ev_1", "outcome": "applied",
		"source": map[string]any{"id": objectID, "name": "Acme"},
		"actions": []map[string]any{{"action": "account", "target": "crm.company", "target_id": "1001", "before": nil,
			"after": map[string]any{"name": "Acme"}, "note": "not linked: no company written for this record yet"}}}, nil
}

// ReconcileNow stores a small report, as the syncer's job would.
func (q queuesOne) ReconcileNow(ctx context.Context, tenant, id string) error {
	return q.store.PutReconciliation(ctx, store.Reconciliation{TenantID: tenant, InstallationID: id, StartedAt: time.Now(), FinishedAt: time.Now(),
		Report: []byte(`{"installation_id":"` + id + `","started_at":"2026-12-06T00:00:00Z","finished_at":"2026-12-06T00:00:01Z","complete":true,"repair":"report",` +
			`"objects":[{"object":"crm.company","listed":2,"paired":2,"unpaired":0,"diffs":{"name":1},"reverted":0,` +
			`"samples":[{"object_id":"1001","field":"name","written":"Acme","now":"ACME"}],"complete":true}]}`)})
}

// conformance validates every request and response that passes through
// against the published OpenAPI document, and records which documented
// operations were exercised.
type conformance struct {
	t      *testing.T
	router routers.Router
	next   http.Handler
	mu     sync.Mutex
	seen   map[string]bool
	errs   []string
}

func (c *conformance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if r.URL.Path == "/api/v1/openapi.json" {
		c.next.ServeHTTP(w, r)
		return
	}
	route, params, err := c.router.FindRoute(r)
	if err != nil {
		c.fail("%s %s is not in the OpenAPI document: %v", r.Method, r.URL.Path, err)
		c.next.ServeHTTP(w, r)
		return
	}
	c.mu.Lock()
	c.seen[r.Method+" "+route.Path] = true
	c.mu.Unlock()
	in := &openapi3filter.RequestValidationInput{Request: r.Clone(context.Background()), PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	in.Request.Body = io.NopCloser(bytes.NewReader(body))
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		c.fail("request %s %s does not match the document: %v", r.Method, r.URL.Path, err)
	}
	rec := httptest.NewRecorder()
	r.Body = io.NopCloser(bytes.NewReader(body))
	c.next.ServeHTTP(rec, r)
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
		Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.fail("response %d to %s %s does not match the document: %v\n%s", rec.Code, r.Method, r.URL.Path, err, rec.Body.String())
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func (c *conformance) fail(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t.Errorf(format, args...)
}

// The OpenAPI document is checked against real traffic: every request the
// client sends and every answer the API gives (successes and errors) must
// match it, and every documented operation of the admin API is exercised,
// so neither can drift from the other.
func TestOpenAPIDocumentMatchesTheAPI(t *testing.T) {
	t.Parallel()
	signer, err := access.NewSigner(access.DeriveKey([]byte("openapi test"), "ui"))
	require.NoError(t, err)
	contract := &spec.Contract{Name: "escalation", Version: "1.0.0", Providers: []string{"helpdesk", "incidents"}}
	// The client tests' store, vault and catalog, served again through the
	// checker.
	var deps api.Deps
	setupClientWith(t, func(d *api.Deps) {
		n, err := notify.New(d.Store, manyQueue{d.Queue.(*recordingQueue)}, d.Vault, nil, nil)
		require.NoError(t, err)
		d.Notifier = n
		u, err := uninstall.New(d.Store, cancellingQueue{d.Queue.(*recordingQueue)}, lifecycleDisconnector{connection.New(d.Store, nil)}, nil)
		require.NoError(t, err)
		d.Uninstaller = u
		d.Syncer = queuesOne{store: d.Store}
		d.Providers["helpdesk"].Settings = map[string]*spec.ConnectionSetting{
			"subdomain": {Description: "your subdomain", Format: spec.SettingDNSLabel, Optional: true}}
		deps = *d
	})
	deps.Signer = signer
	deps.Status = status.NewMonitor(prometheus.NewRegistry(), nil)
	deps.Versions = map[string]map[string]*spec.Contract{"escalation": {"1.0.0": contract}}
	a := api.New(deps)
	mux := http.NewServeMux()
	for p, h := range a.Routes() {
		mux.Handle(p, h)
	}

	loader := openapi3.NewLoader()
	raw := get(t, mux, "/api/v1/openapi.json")
	doc, err := loader.LoadFromData(raw)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(loader.Context), "the document itself is valid")
	router, err := legacy.NewRouter(doc)
	require.NoError(t, err)
	check := &conformance{t: t, router: router, next: mux, seen: map[string]bool{}}
	srv := httptest.NewServer(check)
	t.Cleanup(srv.Close)
	c := &api.Client{BaseURL: srv.URL, Token: clToken, HTTP: srv.Client()}
	ctx := t.Context()

	// Tenants, connections, installations.
	_, err = c.CreateTenant(ctx, "globex", "Globex")
	require.NoError(t, err)
	checkedCall(t, srv, "GET", "/api/v1/tenants", "")
	checkedCall(t, srv, "GET", "/api/v1/tenants/globex", "")
	checkedCall(t, srv, "GET", "/api/v1/tenants/nobody", "")
	inst, conns, err := c.InstallContract(ctx, "globex", "escalation", map[string]api.ConnectionInput{
		"helpdesk": {APIKey: "hd-key", WebhookSecret: "hd-secret"}, "incidents": {APIKey: "inc-key"}})
	require.NoError(t, err)
	checkedCall(t, srv, "GET", "/api/v1/tenants/globex/connections", "")
	checkedCall(t, srv, "GET", "/api/v1/tenants/globex/connections/"+conns["helpdesk"].ID, "")
	checkedCall(t, srv, "PUT", "/api/v1/tenants/globex/connections/"+conns["helpdesk"].ID+"/webhook-secret", `{"secret":"next-secret"}`)
	checkedCall(t, srv, "DELETE", "/api/v1/tenants/globex/connections/"+conns["helpdesk"].ID+"/webhook-secret/previous", "")
	checkedCall(t, srv, "POST", "/api/v1/tenants/globex/connections", `{"provider":"nope"}`)
	checkedCall(t, srv, "PATCH", "/api/v1/tenants/globex/connections/"+conns["helpdesk"].ID+"/settings", `{"settings":{"subdomain":"globex"}}`)
	checkedCall(t, srv, "PATCH", "/api/v1/tenants/globex/connections/"+conns["helpdesk"].ID+"/settings", `{"settings":{"host":"x"}}`)
	checkedCall(t, srv, "PATCH", "/api/v1/tenants/globex/connections/conn_missing/settings", `{"settings":{"subdomain":"x"}}`)
	checkedCall(t, srv, "GET", "/api/v1/tenants/globex/installations", "")
	checkedCall(t, srv, "GET", "/api/v1/tenants/globex/installations/"+inst.ID, "")
	checkedCall(t, srv, "POST", "/api/v1/tenants/globex/installations/"+inst.ID+"/pause", "")
	checkedCall(t, srv, "POST", "/api/v1/tenants/globex/installations/"+inst.ID+"/resume", "")
	checkedCall(t, srv, "POST", "/api/v1/tenants/globex/installations/"+inst.ID+"/upgrade", "")
	checkedCall(t, srv, "GET", "/api/v1/tenants/globex/installations/"+inst.ID+"/overrides", "")
	checkedCall(t, srv, "PUT", "/api/v1/tenants/globex/installations/"+inst.ID+"/overrides", `{}`)
	checkedCall(t, srv, "PUT", "/api/v1/tenants/globex/installations/"+inst.ID+"/overrides", `{"fields":{"a.b":{"value":1}}}`)
	checkedCall(t, srv, "GET", "/api/v1/tenants/globex/record-errors", "")
	checkedCall(t, srv, "GET", "/api/v1/tenants/globex/record-errors/rerr_missing", "")
	checkedCall(t, srv, "POST", "/api/v1/tenants/globex/record-errors/rerr_missing/retry", "")
	checkedCall(t, srv, "POST", "/api/v1/record-errors/rerr_missing/retry?tenant_id=globex", "")
	checkedCall(t, srv, "GET", "/api/v1/providers", "")
	checkedCall(t, srv, "GET", "/api/v1/contracts", "")
	checkedCall(t, srv, "GET", "/api/v1/status", "")
	// Access.
	tok := checkedCall(t, srv, "POST", "/api/v1/tokens", `{"name":"ci","role":"viewer"}`)
	checkedCall(t, srv, "GET", "/api/v1/tokens", "")
	id := jsonField(t, tok, "id")
	checkedCall(t, srv, "DELETE", "/api/v1/tokens/"+id, "")
	checkedCall(t, srv, "POST", "/api/v1/tenants/globex/ui-links", `{}`)
	// Lifecycle: catalog, notification endpoints, REST hooks, uninstall.
	_, err = c.Catalog(ctx)
	require.NoError(t, err)
	ep, err := c.CreateNotificationEndpoint(ctx, "globex", "https://host.example/n", nil)
	require.NoError(t, err)
	checkedCall(t, srv, "GET", "/api/v1/tenants/globex/notification-endpoints", "")
	checkedCall(t, srv, "GET", "/api/v1/tenants/globex/notification-endpoints/"+ep.ID+"/deliveries", "")
	checkedCall(t, srv, "POST", "/api/v1/tenants/globex/notification-endpoints/"+ep.ID+"/rotate-secret", "")
	checkedCall(t, srv, "DELETE", "/api/v1/tenants/globex/notification-endpoints/"+ep.ID, "")
	checkedCall(t, srv, "GET", "/api/v1/hooks/events", "")
	checkedCall(t, srv, "GET", "/api/v1/hooks/samples/"+notify.RecordErrorOpened, "")
	hook, err := c.SubscribeHook(ctx, "globex", "https://hooks.example/z", notify.RecordErrorOpened)
	require.NoError(t, err)
	require.NoError(t, c.UnsubscribeHook(ctx, "globex", hook.ID))
	// Sync: the fake syncer queues one trigger (the answer's shape is
	// checked; internal/e2e runs real syncs).
	checkedCall(t, srv, "POST", "/api/v1/tenants/globex/installations/"+inst.ID+"/sync", "")
	_, err = c.GetSync(ctx, "globex", inst.ID)
	require.NoError(t, err)
	checkedCall(t, srv, "GET", "/api/v1/tenants/globex/installations/"+inst.ID+"/reconcile", "")
	checkedCall(t, srv, "POST", "/api/v1/tenants/globex/installations/"+inst.ID+"/sync/test", `{"trigger":"customer","object_id":"cus_1"}`)
	checkedCall(t, srv, "POST", "/api/v1/tenants/globex/installations/"+inst.ID+"/sync/test", `{"trigger":"nope","object_id":"cus_1"}`)
	require.NoError(t, c.Reconcile(ctx, "globex", inst.ID))
	var report map[string]any
	require.NoError(t, c.GetReconciliation(ctx, "globex", inst.ID, &report))
	_, err = c.Uninstall(ctx, "globex", inst.ID)
	require.NoError(t, err)
	_, err = c.GetUninstall(ctx, "globex", inst.ID)
	require.NoError(t, err)
	// Unauthenticated: the documented 401.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v1/tenants", nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()

	// The connect and OAuth routes are served by the OAuth manager and
	// exercised in connect_test.go and connect_oauth_test.go.
	elsewhere := map[string]bool{
		"POST /api/v1/tenants/{tenant}/connect-sessions":            true,
		"POST /api/v1/tenants/{tenant}/connections/{id}/reconnect":  true,
		"POST /api/v1/tenants/{tenant}/connections/{id}/disconnect": true,
		"POST /api/v1/tenants/{tenant}/connections/{id}/test":       true,
		"POST /api/v1/tenants/{tenant}/connections/oauth":           true,
	}
	var missing []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			op := method + " " + path
			if !check.seen[op] && !elsewhere[op] {
				missing = append(missing, op)
			}
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "documented operations no request exercised")
}

func get(t *testing.T, h http.Handler, path string) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	require.Equal(t, http.StatusOK, rec.Code)
	return rec.Body.Bytes()
}

// checkedCall sends an authenticated request through the checking server and
// returns the body; the checker reports any mismatch.
func checkedCall(t *testing.T, srv *httptest.Server, method, path, body string) []byte {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = bytes.NewReader([]byte(body))
	}
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+clToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return raw
}

func jsonField(t *testing.T, raw []byte, field string) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, jsonUnmarshal(raw, &m), string(raw))
	s, _ := m[field].(string)
	require.NotEmpty(t, s, "%s in %s", field, raw)
	return s
}

var jsonUnmarshal = func(b []byte, v any) error { return json.Unmarshal(b, v) }
