package contracttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/webhook"
	"github.com/accordhq/accord/internal/webhook/signature"
)

// Sandbox is a partner account to send real requests to: recording a
// cassette, or `accord dryrun --live`.
type Sandbox struct {
	// BaseURL replaces the manifest's base_url.
	BaseURL string
	// Secret is the credential as the manifest's auth kind takes it: the
	// token or API key, or user:password for basic.
	Secret string
}

// testSecret is the credential sent to mock partners and written to no
// cassette; webhookSecret signs the test's webhooks.
const (
	testSecret    = "accord-test-token"
	webhookSecret = "whsec_YWNjb3JkLXRlc3Qtd2ViaG9vay1zZWNyZXQ="
)

// harness is Accord's event path for one case: webhook ingress, dispatcher
// and engine over a tenant of its own in the run's store, with its
// partners on loopback.
type harness struct {
	cfg      *Config
	contract *spec.Contract
	st       store.Store
	tenant   string
	clock    *clock
	journal  *journal
	mocks    map[string]*MockPartner
	servers  []*httptest.Server
	idle     []interface{ CloseIdleConnections() }
	rec      *recorder.Recorder
	cassette string // replayed, when set
	catalog  *engine.Catalog
	engine   *engine.Engine
	disp     *engine.Dispatcher
	ingress  *webhook.Ingress
	mux      *http.ServeMux
	results  *results
	conns    map[string]string // provider → connection id
	// queued is the event the last step left to the queue, and the delay
	// it was given.
	queued      *store.Event
	queuedDelay time.Duration
}

// newHarness builds the case's partners, engine and ingress.
// cassette is "" for none.
func newHarness(ctx context.Context, cfg *Config, st store.Store, c *spec.Contract, tenant, cassette string) (*harness, error) {
	h := &harness{
		cfg: cfg, contract: c, st: st, tenant: tenant, clock: &clock{now: cfg.now()}, journal: &journal{},
		mocks: map[string]*MockPartner{}, results: &results{m: map[string]chan result{}}, conns: map[string]string{},
	}
	if err := h.partners(cassette); err != nil {
		h.close()
		return nil, err
	}
	if err := h.start(ctx); err != nil {
		h.close()
		return nil, err
	}
	return h, nil
}

// partners starts a mock for every provider the contract names and puts
// each provider's base URL on what the case talks to: the mock; a tape in
// front of the sandbox (live or recording) or of the mock (recording); or
// a tape replaying the cassette.
func (h *harness) partners(cassette string) error {
	providers := map[string]*spec.Provider{}
	plain := &http.Transport{Proxy: nil}
	guardedClient := connector.NewHTTPClient(&connector.Config{AllowLoopback: h.cfg.AllowLoopback})
	guarded := guardedClient.Transport
	h.idle = append(h.idle, plain, guardedClient)
	mockHosts := map[string]bool{}
	mockURLs := map[string]string{}
	bases := map[string]string{}
	var secretParams []string
	for _, name := range h.contract.Providers {
		p := h.cfg.Providers[name]
		if p == nil {
			return fmt.Errorf("provider %s is not loaded", name)
		}
		m := NewMockPartner(p, h.clock.Now, h.journal)
		srv := httptest.NewServer(m)
		h.servers = append(h.servers, srv)
		h.mocks[name] = m
		mockURLs[name] = srv.URL
		u, _ := url.Parse(srv.URL)
		mockHosts[u.Host] = true
		bases[srv.URL] = name
		if sb, ok := h.cfg.Sandboxes[name]; ok {
			bases[sb.BaseURL] = name
		}
		if p.Auth.QueryParam != "" {
			secretParams = append(secretParams, p.Auth.QueryParam)
		}
		cp := *p
		providers[name] = &cp
	}
	// Mocks are this process's own servers; everything else goes through
	// the connector's guarded client.
	route := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if mockHosts[r.URL.Host] {
			return plain.RoundTrip(r)
		}
		return guarded.RoundTrip(r)
	})
	var rt http.RoundTripper = route
	replay := cassette != "" && !h.cfg.Record
	if replay {
		h.cassette = cassette
	}
	if cassette != "" {
		rec, err := openCassette(cassette, h.cfg.Record, route, bases, secretParams)
		if err != nil {
			return err
		}
		h.rec, rt = rec, rec
	}
	for _, name := range h.contract.Providers {
		p := providers[name]
		sb, ok := h.cfg.Sandboxes[name]
		live := ok && (h.cfg.Live || (h.cfg.Record && cassette != ""))
		mockURL := mockURLs[name]
		switch {
		case replay:
			up, _ := url.Parse(sandboxURL(name))
			p.BaseURL = h.serve(&tape{provider: name, upstream: up, rt: rt, journal: h.journal})
		case live || cassette != "":
			base := mockURL
			if live {
				base = sb.BaseURL
			}
			up, err := url.Parse(base)
			if err != nil || up.Host == "" {
				return fmt.Errorf("sandbox for %s: %q is not a base URL", name, base)
			}
			p.BaseURL = h.serve(&tape{provider: name, upstream: up, rt: rt, journal: h.journal})
		default:
			p.BaseURL = mockURL
		}
	}
	h.catalog = &engine.Catalog{Providers: providers}
	return h.catalog.Add(h.contract)
}

func (h *harness) serve(handler http.Handler) string {
	srv := httptest.NewServer(handler)
	h.servers = append(h.servers, srv)
	return srv.URL
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// start creates the tenant, a connection per provider and the
// installation, then the engine, its dispatcher and the ingress, wired
// as `accord serve` wires them in one process.
func (h *harness) start(ctx context.Context) error {
	if err := h.st.CreateTenant(ctx, store.Tenant{ID: h.tenant, Name: h.tenant}); err != nil {
		return fmt.Errorf("creating the test tenant: %w", err)
	}
	for _, name := range h.contract.Providers {
		// Connection ids are global (a webhook URL names only the id).
		id := "conn_" + h.tenant + "_" + name
		h.conns[name] = id
		if err := h.st.CreateConnection(ctx, store.Connection{TenantID: h.tenant, ID: id, Provider: name, State: store.ConnectionActive, Secret: []byte("unused")}); err != nil {
			return fmt.Errorf("creating the %s connection: %w", name, err)
		}
	}
	if err := h.st.CreateInstallation(ctx, store.Installation{TenantID: h.tenant, ID: "inst_test", Contract: h.contract.Name,
		ContractVersion: h.contract.Version, State: store.InstallationActive, Connections: maps.Clone(h.conns)}); err != nil {
		return fmt.Errorf("installing the contract: %w", err)
	}
	logger := h.cfg.logger()
	reg := prometheus.NewRegistry()
	e, err := engine.New(engine.Deps{
		Store: h.st, Catalog: h.catalog, Credentials: credentials{cfg: h.cfg}, Logger: logger, Registerer: reg, Now: h.clock.Now,
		Alerter:      engine.NewAlerter("", logger, nil),
		OnEventFinal: func(ev store.Event, outcome string) { h.results.put(ev.ID, result{outcome: outcome}) },
	}, &engine.Config{
		// The partners are this process's loopback servers; a sandbox is
		// reached through the tape's guarded client.
		Connector: &connector.Config{AllowLoopback: true, Now: h.clock.Now, Logger: logger},
	})
	if err != nil {
		return fmt.Errorf("starting the engine: %w", err)
	}
	h.engine = e
	e.UseQueue(handoffs{h})
	h.disp = e.NewDispatcher(&engine.DispatcherConfig{Workers: 4})
	in, err := webhook.NewIngress(webhook.Deps{
		Store: h.st, Queue: handoffs{h}, Secrets: staticSecret{}, Dispatch: h.disp.Dispatch, Logger: logger, Registerer: reg, Now: h.clock.Now,
		Providers: func(name string) (*spec.Provider, bool) { p, ok := h.catalog.Providers[name]; return p, ok },
	}, &webhook.Config{DisableGroupCommit: true}) // one event at a time: nothing to group
	if err != nil {
		return fmt.Errorf("starting the webhook ingress: %w", err)
	}
	h.ingress = in
	h.mux = http.NewServeMux()
	h.mux.Handle(webhook.Pattern, in)
	return nil
}

// close stops the case's engine and servers and, recording, writes the
// cassette.
func (h *harness) close() error {
	if h.ingress != nil {
		_ = h.ingress.Close()
	}
	if h.disp != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		h.disp.Close(ctx)
		cancel()
	}
	if h.engine != nil {
		h.engine.Close()
	}
	for _, s := range h.servers {
		s.Close()
	}
	for _, c := range h.idle {
		c.CloseIdleConnections()
	}
	if h.rec != nil && h.cfg.Record {
		if err := h.rec.Stop(); err != nil {
			return fmt.Errorf("writing the cassette: %w", err)
		}
	}
	return nil
}

// unplayed says how many recorded exchanges the case never asked for: a
// contract that no longer makes a call it was recorded making has changed
// under its test.
func (h *harness) unplayed() (int, error) {
	if h.cassette == "" {
		return 0, nil
	}
	c, err := cassette.Load(strings.TrimSuffix(h.cassette, ".yaml"))
	if err != nil {
		return 0, fmt.Errorf("reading the cassette: %w", err)
	}
	played := 0
	for _, x := range h.journal.since(0) {
		if x.Err == "" {
			played++
		}
	}
	return len(c.Interactions) - played, nil
}

// stepResult is what one step did.
type stepResult struct {
	status      int
	answer      string // the webhook answer's body, when it was refused
	outcome     string
	retryAfter  time.Duration
	exchanges   []Exchange
	recordError []string // classes of the record errors it filed
}

// send posts the step's event to the ingress, signed as its provider
// signs, and waits for the engine to finish with it.
func (h *harness) send(ctx context.Context, st *Step) (stepResult, error) {
	before := h.journal.len()
	errsBefore, err := h.recordErrors(ctx)
	if err != nil {
		return stepResult{}, err
	}
	var res stepResult
	if st.Retry {
		res, err = h.redeliver(ctx)
	} else {
		res, err = h.post(ctx, st)
	}
	if err != nil {
		return res, err
	}
	res.exchanges = h.journal.since(before)
	errsAfter, err := h.recordErrors(ctx)
	if err != nil {
		return res, err
	}
	for id, class := range errsAfter {
		if _, old := errsBefore[id]; !old {
			res.recordError = append(res.recordError, class)
		}
	}
	slices.Sort(res.recordError)
	return res, nil
}

func (h *harness) post(ctx context.Context, st *Step) (stepResult, error) {
	p, err := h.source(st.From)
	if err != nil {
		return stepResult{}, err
	}
	doc := deepCopy(st.Event)
	for _, path := range slices.Sorted(maps.Keys(st.Set)) {
		setPath(doc, path, st.Set[path])
	}
	typeHeader, inHeader := strings.CutPrefix(p.Webhooks.EventType, "header:")
	if st.Type != "" && !inHeader {
		setPath(doc, p.Webhooks.EventType, st.Type)
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return stepResult{}, fmt.Errorf("encoding the event: %w", err)
	}
	if pad := st.PadTo - int64(len(body)); pad > 0 {
		doc["accord_test_padding"] = strings.Repeat("x", int(max(pad-30, 0)))
		body, _ = json.Marshal(doc)
	}
	if w := p.Webhooks; w.Batched() {
		// A case holds one event; a batching partner sends it as a batch
		// of one.
		var wrapped any = []any{doc}
		if w.Batch != "." {
			outer := map[string]any{}
			setPath(outer, w.Batch, wrapped)
			wrapped = outer
		}
		if body, err = json.Marshal(wrapped); err != nil {
			return stepResult{}, fmt.Errorf("encoding the event: %w", err)
		}
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/hooks/"+h.conns[p.Name], strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range st.Headers {
		req.Header.Set(k, v)
	}
	if st.Type != "" && inHeader {
		req.Header.Set(typeHeader, st.Type)
	}
	if err := sign(p, req, body, h.clock.Now()); err != nil {
		return stepResult{}, err
	}
	w := httptest.NewRecorder()
	h.mux.ServeHTTP(w, req)
	var answer struct {
		Status, EventID string
		EventIDs        []string // a batched body's
	}
	_ = json.Unmarshal(w.Body.Bytes(), &struct {
		Status   *string   `json:"status"`
		EventID  *string   `json:"event_id"`
		EventIDs *[]string `json:"event_ids"`
	}{&answer.Status, &answer.EventID, &answer.EventIDs})
	if answer.EventID == "" && len(answer.EventIDs) == 1 {
		answer.EventID = answer.EventIDs[0]
	}
	res := stepResult{status: w.Code}
	switch {
	case w.Code >= 300:
		res.outcome, res.answer = "rejected", strings.TrimSpace(w.Body.String())
		return res, nil
	case answer.Status == "duplicate" || answer.Status == "ignored":
		res.outcome = answer.Status
		return res, nil
	case answer.EventID == "":
		return res, fmt.Errorf("the webhook ingress answered %d %s without an event id", w.Code, strings.TrimSpace(w.Body.String()))
	}
	return h.wait(ctx, res, answer.EventID)
}

// redeliver hands the event the previous step queued to the engine again,
// once its delay has passed on the case's clock: what the queue would do.
func (h *harness) redeliver(ctx context.Context) (stepResult, error) {
	if h.queued == nil {
		return stepResult{}, errors.New("retry: the previous step left nothing to the queue (its outcome was not retry)")
	}
	h.clock.Advance(h.queuedDelay)
	ev, err := h.st.GetEvent(ctx, h.tenant, h.queued.ID)
	if err != nil {
		return stepResult{}, fmt.Errorf("reading the queued event: %w", err)
	}
	h.disp.Dispatch([]store.Event{ev})
	return h.wait(ctx, stepResult{}, ev.ID)
}

func (h *harness) wait(ctx context.Context, res stepResult, eventID string) (stepResult, error) {
	h.queued = nil
	timeout := time.NewTimer(h.cfg.stepTimeout())
	defer timeout.Stop()
	select {
	case r := <-h.results.ch(eventID):
		res.outcome, res.retryAfter = r.outcome, r.retryAfter
		if r.outcome == "retry" {
			ev, err := h.st.GetEvent(ctx, h.tenant, eventID)
			if err != nil {
				return res, fmt.Errorf("reading the queued event: %w", err)
			}
			h.queued, h.queuedDelay = &ev, r.retryAfter
		}
		return res, nil
	case <-timeout.C:
		return res, fmt.Errorf("the engine did not finish event %s within %s", eventID, h.cfg.stepTimeout())
	case <-ctx.Done():
		return res, ctx.Err()
	}
}

// source is the provider whose webhook a step sends: from, or the only
// provider the contract's webhook triggers listen to.
func (h *harness) source(from string) (*spec.Provider, error) {
	var names []string
	for _, t := range h.contract.Triggers {
		if t != nil && t.Webhook != nil && !slices.Contains(names, t.Webhook.Provider) {
			names = append(names, t.Webhook.Provider)
		}
	}
	slices.Sort(names)
	switch {
	case from != "" && slices.Contains(names, from):
		return h.catalog.Providers[from], nil
	case from != "":
		return nil, fmt.Errorf("from %s: the contract has no webhook trigger on it (it listens to %s)", from, strings.Join(names, ", "))
	case len(names) == 1:
		return h.catalog.Providers[names[0]], nil
	case len(names) == 0:
		return nil, errors.New("the contract has no webhook trigger: there is nothing to send an event to")
	}
	return nil, fmt.Errorf("the contract listens to webhooks of %s: say which with `from:`", strings.Join(names, ", "))
}

func (h *harness) recordErrors(ctx context.Context) (map[string]string, error) {
	res, err := h.st.ListRecordErrors(ctx, h.tenant, store.RecordErrorFilter{Limit: 1000})
	if err != nil {
		return nil, fmt.Errorf("listing record errors: %w", err)
	}
	out := map[string]string{}
	for _, r := range res {
		out[r.ID] = r.Class
	}
	return out, nil
}

// sign adds the signature headers p's scheme expects, with the test's
// webhook secret, as the partner would.
func sign(p *spec.Provider, req *http.Request, body []byte, now time.Time) error {
	sig := p.Webhooks.Signature
	// The ingress's translation of the manifest (webhook.signatureOptions).
	o := signature.Options{Header: sig.Header, TimestampHeader: sig.TimestampHeader, Tolerance: time.Duration(sig.EffectiveTolerance())}
	if sig.Scheme == spec.SigHMAC {
		o.Prefix, o.Encoding, o.Payload = sig.Prefix, sig.Encoding, sig.Payload
	}
	s, err := signature.New(sig.Scheme, o)
	if err != nil {
		return fmt.Errorf("signing the webhook: %w", err)
	}
	id := "msg_" + fmt.Sprint(now.UnixNano())
	if rs, ok := s.(signature.RequestSigner); ok {
		sr := signature.FromHTTP(req, body)
		if err := rs.SignRequest(sr, []byte(webhookSecret), now, id); err != nil {
			return fmt.Errorf("signing the webhook: %w", err)
		}
		return nil
	}
	hdr, err := s.Sign(body, []byte(webhookSecret), now, id)
	if err != nil {
		return fmt.Errorf("signing the webhook: %w", err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	return nil
}

// credentials authorise every connection with the sandbox's secret, or
// the test token for a mock.
type credentials struct{ cfg *Config }

func (c credentials) Authorizer(_ context.Context, conn store.Connection, p *spec.Provider) (connector.Authorizer, error) {
	secret := testSecret
	if sb, ok := c.cfg.Sandboxes[p.Name]; ok && sb.Secret != "" {
		secret = sb.Secret
	}
	return Authorizer(p, secret), nil
}

// Authorizer is how a request to p carries secret, by the manifest's auth
// kind: an API key where the manifest puts it, basic from user:password,
// a bearer token otherwise (OAuth access tokens included).
func Authorizer(p *spec.Provider, secret string) connector.Authorizer {
	switch p.Auth.Kind {
	case spec.AuthAPIKey:
		return connector.APIKey{Header: p.Auth.Header, QueryParam: p.Auth.QueryParam, Prefix: p.Auth.Prefix, Key: secret}
	case spec.AuthBasic:
		user, pass, _ := strings.Cut(secret, ":")
		return connector.Basic{Username: user, Password: pass}
	}
	return connector.Bearer{Token: secret}
}

type staticSecret struct{}

func (staticSecret) WebhookSecrets(context.Context, store.Connection) ([][]byte, error) {
	return [][]byte{[]byte(webhookSecret)}, nil
}

// handoffs stands in for the job queue: an event handed to it (a snooze
// after a 429, a retry after a 5xx, a paused connection) is the step's
// outcome "retry", with the delay it was queued with.
type handoffs struct{ h *harness }

func (q handoffs) InsertManyTx(_ context.Context, _ store.Tx, params []river.InsertManyParams) ([]int64, error) {
	ids := make([]int64, len(params))
	for i, p := range params {
		args, ok := p.Args.(engine.DeliverArgs)
		if !ok {
			return nil, fmt.Errorf("unexpected job %T", p.Args)
		}
		var delay time.Duration
		if p.InsertOpts != nil && !p.InsertOpts.ScheduledAt.IsZero() {
			delay = p.InsertOpts.ScheduledAt.Sub(q.h.clock.Now())
		}
		q.h.results.put(args.EventID, result{outcome: "retry", retryAfter: delay})
		ids[i] = int64(i + 1)
	}
	return ids, nil
}

type result struct {
	outcome    string
	retryAfter time.Duration
}

// results carries each event's result from the engine's goroutines to the
// step waiting for it, whichever comes first.
type results struct {
	mu sync.Mutex
	m  map[string]chan result
}

func (r *results) ch(id string) chan result {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.m[id]
	if !ok {
		c = make(chan result, 4)
		r.m[id] = c
	}
	return c
}

func (r *results) put(id string, res result) {
	select {
	case r.ch(id) <- res:
	default: // nobody reads more than one result per delivery
	}
}

// clock is the case's time: it moves only when a retry step says the
// queue's delay has passed.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }
