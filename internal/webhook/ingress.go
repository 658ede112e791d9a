package webhook

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/privacy"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/webhook/signature"
)

// Pattern is the ServeMux pattern the Ingress serves.
const Pattern = "POST /hooks/{connection_id}"

// Queue enqueues jobs inside a store transaction. *queue.Queue implements
// it.
type Queue interface {
	// InsertManyTx inserts the jobs in tx: they become visible when tx
	// commits and vanish if it rolls back. An error leaves tx to be rolled
	// back.
	InsertManyTx(ctx context.Context, tx store.Tx, params []river.InsertManyParams) ([]int64, error)
}

// FastQueue is an optional capability of a Queue: inserting jobs without
// reading them back (River's InsertManyFastTx). On SQLite it costs about a
// third of InsertManyTx per job, and the job insert is most of a commit's
// CPU, so the committer uses it whenever it can: when no job of the batch
// asks for uniqueness (a unique conflict would fail the whole insert
// instead of being skipped).
type FastQueue interface {
	InsertManyFastTx(ctx context.Context, tx store.Tx, params []river.InsertManyParams) (int, error)
}

// SecretSource gives the secrets a connection's webhooks are signed with.
type SecretSource interface {
	// WebhookSecrets returns one secret, or two during a rotation window
	// (a request signed with either passes). It is called once per
	// request; an error answers 500 so the partner retries.
	WebhookSecrets(ctx context.Context, conn store.Connection) ([][]byte, error)
}

// Deps are what an Ingress is built on.
type Deps struct {
	// Store holds connections and events. Required.
	Store store.Store
	// Queue enqueues the job of each accepted event in the event's
	// transaction. Required.
	Queue Queue
	// Providers finds a provider manifest by name. Required.
	Providers func(name string) (*spec.Provider, bool)
	// Secrets gives each connection's webhook secrets. Required.
	Secrets SecretSource
	// NewJob returns the job for an accepted event. Required unless
	// Dispatch is set.
	NewJob func(e store.Event) river.InsertManyParams
	// Dispatch, when set, takes the events each commit accepted, to
	// deliver them in this process at once; they are stored pending and no
	// job is queued for them (a sweeper queues the ones that linger, so a
	// crash loses nothing). When nil, every accepted event's job (NewJob)
	// commits with it. Dispatch must not block.
	Dispatch func(events []store.Event)
	// Logger; default slog.Default(). Secrets, bodies and signatures are
	// never logged.
	Logger *slog.Logger
	// Registerer receives the metrics; default none (they are kept but not
	// exported).
	Registerer prometheus.Registerer
	// Now is the clock for signature timestamps and ReceivedAt; default
	// time.Now.
	Now func() time.Time
}

// Ingress serves POST /hooks/{connection_id}. It is an http.Handler; mount
// it at Pattern. Call Close on shutdown, after the HTTP server has stopped
// taking requests.
type Ingress struct {
	deps      Deps
	cfg       Config
	logger    *slog.Logger
	now       func() time.Time
	metrics   *metrics
	conns     *connectionCache
	committer *committer
	group     bool
	budget    byteBudget
	busy      *connLimiter
	forgedLog *logLimiter
	rejected  *rejections

	mu        sync.RWMutex
	providers map[string]*providerState
}

var _ http.Handler = (*Ingress)(nil)

// providerState is what the ingress derives from one provider manifest,
// built on the first webhook for that provider.
type providerState struct {
	provider *spec.Provider
	scheme   signature.Scheme
	parser   *eventParser
	maxBody  int64
	// bodyDedup: the signature covers neither a timestamp nor a delivery
	// id, so events are deduplicated on a hash of the signed body (see
	// dedupKey).
	bodyDedup bool
	// shapes is what of each known event type's body is stored (data
	// minimisation: see internal/privacy).
	shapes map[string]*privacy.Shape
}

// minimise returns the payload to store for ev: the stored JSON pruned to
// what the manifest declares, and the count of keys dropped. When nothing
// is dropped the payload is stored as it came (raw, for a batch element:
// nil, to be encoded by the caller).
func (ps *providerState) minimise(ev parsedEvent, raw []byte) ([]byte, int, error) {
	kept, dropped := ps.shapes[ev.typ].Apply(ev.doc)
	if dropped == 0 && raw != nil {
		return raw, 0, nil
	}
	out, err := json.Marshal(kept)
	if err != nil {
		return nil, 0, fmt.Errorf("encoding the minimised payload: %w", err)
	}
	return out, dropped, nil
}

// NewIngress builds an Ingress and, unless group commit is disabled,
// starts its committers. cfg may be nil (see Config for the defaults).
func NewIngress(deps Deps, cfg *Config) (*Ingress, error) {
	if deps.Store == nil || deps.Queue == nil || deps.Providers == nil || deps.Secrets == nil || (deps.NewJob == nil && deps.Dispatch == nil) {
		return nil, errors.New("webhook: NewIngress: Store, Queue, Providers, Secrets and NewJob or Dispatch are required")
	}
	c := cfg.withDefaults(deps.Store.Dialect() == store.DialectSQLite)
	if err := c.validate(); err != nil {
		return nil, err
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, err
	}
	in := &Ingress{
		deps:      deps,
		cfg:       c,
		logger:    deps.Logger,
		now:       deps.Now,
		metrics:   m,
		conns:     newConnectionCache(deps.Store.LookupConnection, deps.Now, c.ConnectionTTL, c.ConnectionCacheSize),
		committer: newCommitter(deps.Store, deps.Queue, deps.Logger, m, &c),
		group:     !c.DisableGroupCommit,
		providers: map[string]*providerState{},
		budget:    byteBudget{limit: c.MaxBytesInFlight},
		busy:      newConnLimiter(c.MaxConcurrentPerConnection, c.ConnectionSlotWait),
		forgedLog: newLogLimiter(forgedLogInterval),
		rejected:  newRejections(deps.Store, deps.Now, deps.Logger, c.RejectionFlushInterval),
	}
	if err := m.registerBudget(deps.Registerer, &in.budget); err != nil {
		return nil, err
	}
	in.committer.dispatch = deps.Dispatch
	if in.group {
		in.committer.start(c.Committers)
	}
	in.rejected.start()
	return in, nil
}

// Close commits every event already handed to the committers, then stops
// them; requests arriving afterwards get 503. It returns when the last
// commit is done.
func (in *Ingress) Close() error {
	in.committer.close()
	in.rejected.close()
	return nil
}

// FlushRejections stores the rejection counts taken since the last flush
// now, in one statement (the ingress does so every
// Config.RejectionFlushInterval and on Close).
func (in *Ingress) FlushRejections(ctx context.Context) error { return in.rejected.flush(ctx) }

// reject counts a refused request on a known connection: in Prometheus
// and, for the health page, in the rejection counts.
func (in *Ingress) reject(conn store.Connection, o Outcome) {
	in.metrics.count(conn.TenantID, conn.Provider, o)
	in.rejected.add(conn, o)
}

// Commits returns how many commit transactions the ingress has run (a
// failed batch's per-event retries included): with group commit, fewer
// than the events committed.
func (in *Ingress) Commits() int64 { return in.committer.txs.Load() }

// ServeHTTP handles one webhook delivery.
func (in *Ingress) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	ctx := r.Context()
	connID := r.PathValue("connection_id")
	if connID == "" {
		in.metrics.count("", "", OutcomeNotFound)
		writeError(w, http.StatusNotFound, "unknown connection")
		return
	}
	conn, err := in.conns.get(ctx, connID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			in.metrics.count("", "", OutcomeNotFound)
			writeError(w, http.StatusNotFound, "unknown connection")
			return
		}
		in.fail(w, r, conn, "", fmt.Errorf("looking up connection: %w", err), connID)
		return
	}
	if conn.State == store.ConnectionDisconnected {
		in.reject(conn, OutcomeNotFound)
		writeError(w, http.StatusGone, "connection is disconnected")
		return
	}
	ps, err := in.provider(conn.Provider)
	if err != nil {
		if errors.Is(err, errNoWebhooks) {
			in.reject(conn, OutcomeNotFound)
			writeError(w, http.StatusNotFound, "connection does not receive webhooks")
			return
		}
		in.fail(w, r, conn, conn.Provider, err, connID)
		return
	}

	if r.ContentLength > ps.maxBody {
		in.reject(conn, OutcomeTooLarge)
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", ps.maxBody))
		return
	}
	held := in.busy.acquire(ctx, conn.ID)
	defer in.busy.release(conn.ID, held)
	if !held {
		in.reject(conn, OutcomeOverloaded)
		writeRetryLater(w, "too many concurrent requests for this connection")
		return
	}
	body, reserved, err := readBody(r.Body, ps.maxBody, &in.budget)
	// The body is held until the response is written (the committer keeps
	// it until the commit is done), so that is when its bytes are free.
	defer in.budget.release(reserved)
	if err != nil {
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			in.reject(conn, OutcomeTooLarge)
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", ps.maxBody))
		case errors.Is(err, errOverBudget):
			in.reject(conn, OutcomeOverloaded)
			writeRetryLater(w, "too many webhook bodies in flight")
		default:
			in.reject(conn, OutcomeMalformed)
			writeError(w, http.StatusBadRequest, "could not read the body")
		}
		return
	}

	secrets, err := in.deps.Secrets.WebhookSecrets(ctx, conn)
	if err != nil {
		in.fail(w, r, conn, conn.Provider, fmt.Errorf("loading webhook secrets: %w", err), connID)
		return
	}
	if err := ps.scheme.Verify(signature.FromHTTP(r, body), secrets, in.now()); err != nil {
		if errors.Is(err, signature.ErrBadSecret) {
			// Our configuration is wrong, not the sender: a 5xx makes the
			// partner retry once it is fixed instead of losing the event.
			in.fail(w, r, conn, conn.Provider, errors.New("webhook secret is unusable for the provider's signature scheme"), connID)
			return
		}
		in.reject(conn, OutcomeBadSignature)
		// At most one line per connection per interval: a forger must not
		// be able to flood the log. The metric counts every request.
		if ok, suppressed := in.forgedLog.allow(conn.ID, in.now()); ok {
			// Only the category: the scheme's detail may quote header values.
			in.logger.LogAttrs(ctx, slog.LevelWarn, "webhook signature rejected",
				slog.String("connection_id", conn.ID), slog.String("tenant_id", conn.TenantID),
				slog.String("provider", conn.Provider), slog.String("reason", rejectReason(err)),
				slog.Int("suppressed", suppressed))
		}
		writeError(w, http.StatusUnauthorized, "invalid signature")
		return
	}

	payload, err := storablePayload(r.Header, body)
	if err == nil && !sameBuffer(payload, body) {
		// A rewritten body (form to JSON, cleaned characters) is a second
		// buffer held until the commit: it counts against the budget too.
		if !in.budget.reserve(int64(cap(payload))) {
			in.reject(conn, OutcomeOverloaded)
			writeRetryLater(w, "too many webhook bodies in flight")
			return
		}
		defer in.budget.release(int64(cap(payload)))
	}
	var evs []parsedEvent
	if err == nil {
		evs, err = ps.parser.parse(r.Header, payload)
	}
	if err != nil {
		var me *MalformedError
		var tooMany *BatchTooLargeError
		switch {
		case errors.As(err, &me):
			in.reject(conn, OutcomeMalformed)
			writeError(w, http.StatusBadRequest, me.Reason)
		case errors.As(err, &tooMany):
			in.reject(conn, OutcomeTooLarge)
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body holds %d events, more than the %d accepted in one request (max_batch)", tooMany.Events, tooMany.Max))
		default:
			in.fail(w, r, conn, conn.Provider, err, connID)
		}
		return
	}
	if !ps.parser.batched() {
		in.serveOne(w, r, conn, ps, evs[0], body, payload)
		return
	}
	in.serveBatch(w, r, conn, ps, evs)
}

// serveOne stores the event of a body that holds one, and answers with
// its id.
func (in *Ingress) serveOne(w http.ResponseWriter, r *http.Request, conn store.Connection, ps *providerState, ev parsedEvent, body, payload []byte) {
	if !ev.known {
		in.metrics.count(conn.TenantID, conn.Provider, OutcomeIgnored)
		writeStatus(w, http.StatusAccepted, `{"status":"ignored"}`)
		return
	}
	stored, dropped, err := ps.minimise(ev, payload)
	if err != nil {
		in.fail(w, r, conn, conn.Provider, err, conn.ID)
		return
	}
	event := in.newEvent(conn, ev, ps.dedupKey(ev.id, body), stored)
	res, err := in.commit(r.Context(), []store.Event{event})
	switch {
	case errors.Is(err, ErrClosed):
		in.metrics.count(conn.TenantID, conn.Provider, OutcomeError)
		writeError(w, http.StatusServiceUnavailable, "shutting down")
	case err != nil:
		in.fail(w, r, conn, conn.Provider, err, conn.ID)
	case !res.inserted[0]:
		in.metrics.count(conn.TenantID, conn.Provider, OutcomeDuplicate)
		writeStatus(w, http.StatusOK, `{"status":"duplicate"}`)
	default:
		in.metrics.count(conn.TenantID, conn.Provider, OutcomeAccepted)
		in.metrics.dropFields(conn.Provider, dropped)
		writeStatus(w, http.StatusAccepted, `{"status":"accepted","event_id":"`+event.ID+`"}`)
	}
}

// batchAnswer is the response to a batched body: what became of its
// events, and the ids of those stored.
type batchAnswer struct {
	Status    string   `json:"status"`
	Accepted  int      `json:"accepted"`
	Duplicate int      `json:"duplicate"`
	Ignored   int      `json:"ignored"`
	EventIDs  []string `json:"event_ids"`
}

// serveBatch stores every known event of a batched body in one
// transaction. Each element is stored on its own (its JSON, re-encoded)
// under its own dedup key; an element repeated within the body counts as
// a duplicate like one stored before.
func (in *Ingress) serveBatch(w http.ResponseWriter, r *http.Request, conn store.Connection, ps *providerState, evs []parsedEvent) {
	ans := batchAnswer{EventIDs: []string{}}
	events := make([]store.Event, 0, len(evs))
	dropped := make([]int, 0, len(evs))
	seen := make(map[string]bool, len(evs))
	for _, ev := range evs {
		if !ev.known {
			ans.Ignored++
			continue
		}
		// The dedup key is taken before minimisation: a body-hash key
		// must cover what was signed, not what is kept.
		key := ps.dedupKey(ev.id, nil)
		if ps.bodyDedup {
			element, err := json.Marshal(ev.doc)
			if err != nil {
				in.fail(w, r, conn, conn.Provider, fmt.Errorf("encoding a batch element: %w", err), conn.ID)
				return
			}
			key = ps.dedupKey(ev.id, element)
		}
		if seen[key] {
			ans.Duplicate++
			continue
		}
		seen[key] = true
		payload, n, err := ps.minimise(ev, nil)
		if err != nil {
			in.fail(w, r, conn, conn.Provider, err, conn.ID)
			return
		}
		events = append(events, in.newEvent(conn, ev, key, payload))
		dropped = append(dropped, n)
	}
	if len(events) > 0 {
		res, err := in.commit(r.Context(), events)
		switch {
		case errors.Is(err, ErrClosed):
			in.metrics.count(conn.TenantID, conn.Provider, OutcomeError)
			writeError(w, http.StatusServiceUnavailable, "shutting down")
			return
		case err != nil:
			in.fail(w, r, conn, conn.Provider, err, conn.ID)
			return
		}
		for i, ok := range res.inserted {
			if ok {
				ans.Accepted++
				ans.EventIDs = append(ans.EventIDs, events[i].ID)
				in.metrics.dropFields(conn.Provider, dropped[i])
			} else {
				ans.Duplicate++
			}
		}
	}
	in.metrics.countN(conn.TenantID, conn.Provider, OutcomeAccepted, ans.Accepted)
	in.metrics.countN(conn.TenantID, conn.Provider, OutcomeDuplicate, ans.Duplicate)
	in.metrics.countN(conn.TenantID, conn.Provider, OutcomeIgnored, ans.Ignored)
	code := http.StatusAccepted
	switch {
	case ans.Accepted > 0:
		ans.Status = "accepted"
	case ans.Duplicate > 0:
		ans.Status, code = "duplicate", http.StatusOK
	default:
		ans.Status = "ignored"
	}
	b, err := json.Marshal(ans)
	if err != nil {
		in.fail(w, r, conn, conn.Provider, fmt.Errorf("encoding the answer: %w", err), conn.ID)
		return
	}
	writeStatus(w, code, string(b))
}

func (in *Ingress) newEvent(conn store.Connection, ev parsedEvent, dedupKey string, payload []byte) store.Event {
	return store.Event{
		TenantID:      conn.TenantID,
		ID:            "evt_" + rand.Text(),
		ConnectionID:  conn.ID,
		DedupKey:      dedupKey,
		Type:          ev.typ,
		ObjectID:      ev.objectID,
		ObjectVersion: ev.version,
		Payload:       payload,
		ReceivedAt:    in.now(),
	}
}

// commit stores the events and their jobs, all or none, with concurrent
// requests (group commit) or alone.
func (in *Ingress) commit(ctx context.Context, events []store.Event) (commitResult, error) {
	p := &pending{events: events, jobs: make([]river.InsertManyParams, len(events)), done: make(chan commitResult, 1)}
	for i := range p.events {
		if in.deps.Dispatch == nil {
			p.events[i].State = store.EventQueued
			p.jobs[i] = in.deps.NewJob(p.events[i])
		} else {
			p.events[i].State = store.EventPending
		}
	}
	if !in.group {
		return in.committer.commitAlone(p)
	}
	if err := in.committer.submit(ctx, p); err != nil {
		return commitResult{}, err
	}
	// Once submitted the event is committed even if the client has gone:
	// waiting here costs nothing, and answering early could not be true.
	res := <-p.done
	return res, res.err
}

var errNoWebhooks = errors.New("webhook: provider declares no webhooks")

// provider returns the derived state of the named provider, rebuilding it
// when the manifest (pointer) changed.
func (in *Ingress) provider(name string) (*providerState, error) {
	p, ok := in.deps.Providers(name)
	if !ok || p == nil {
		return nil, fmt.Errorf("webhook: provider %q not loaded", name)
	}
	if p.Webhooks == nil {
		return nil, errNoWebhooks
	}
	in.mu.RLock()
	ps := in.providers[name]
	in.mu.RUnlock()
	if ps != nil && ps.provider == p {
		return ps, nil
	}
	scheme, err := signature.New(p.Webhooks.Signature.Scheme, signatureOptions(&p.Webhooks.Signature))
	if err != nil {
		return nil, fmt.Errorf("webhook: provider %q: %w", name, err)
	}
	ps = &providerState{
		provider: p,
		scheme:   scheme,
		parser:   newEventParser(p.Webhooks),
		maxBody:  p.Webhooks.EffectiveMaxBody(),

		bodyDedup: !signature.SignsDelivery(scheme),
		shapes:    make(map[string]*privacy.Shape, len(p.Webhooks.Events)),
	}
	for typ := range p.Webhooks.Events {
		ps.shapes[typ] = privacy.EventShape(p, typ)
	}
	in.mu.Lock()
	in.providers[name] = ps
	in.mu.Unlock()
	return ps, nil
}

// signatureOptions translates the manifest's signature block. Prefix,
// encoding and payload describe the generic hmac scheme only; the named
// schemes have fixed formats (a manifest may still spell them out, as the
// shipped helpdesk does with "v1," and base64) and do not get them.
func signatureOptions(sig *spec.Signature) signature.Options {
	o := signature.Options{
		Header:          sig.Header,
		TimestampHeader: sig.TimestampHeader,
		Tolerance:       time.Duration(sig.EffectiveTolerance()),
	}
	if sig.Scheme == spec.SigHMAC {
		o.Prefix, o.Encoding, o.Payload = sig.Prefix, sig.Encoding, sig.Payload
	}
	return o
}

// fail answers 500 and logs why. The partner retries a 5xx, so nothing is
// lost while we are broken.
func (in *Ingress) fail(w http.ResponseWriter, r *http.Request, conn store.Connection, provider string, err error, connID string) {
	in.metrics.count(conn.TenantID, provider, OutcomeError)
	in.logger.LogAttrs(r.Context(), slog.LevelError, "webhook ingress failed",
		slog.String("connection_id", connID), slog.String("tenant_id", conn.TenantID),
		slog.String("provider", provider), slog.String("err", err.Error()))
	writeError(w, http.StatusInternalServerError, "internal error, retry later")
}

func rejectReason(err error) string {
	switch {
	case errors.Is(err, signature.ErrNoSignature):
		return "missing_signature"
	case errors.Is(err, signature.ErrTimestamp):
		return "timestamp_outside_tolerance"
	default:
		return "signature_mismatch"
	}
}

// storablePayload turns a verified body into what is stored and parsed: a
// form body becomes JSON (see formJSON), and the JSON is cleaned of what
// the databases refuse (see cleanJSON).
func storablePayload(h http.Header, body []byte) ([]byte, error) {
	doc := body
	if isForm(h) {
		var err error
		if doc, err = formJSON(body); err != nil {
			return nil, err
		}
	}
	return cleanJSON(doc)
}

// dedupKey is the key an event is stored once under. For a scheme that
// signs a timestamp or the delivery id it is the event id. For one that
// signs only the body (github, shopify, hmac without {timestamp} or {id})
// the delivery-id header is not covered: a captured request replayed under
// a fresh id would verify and count as new. Such events are deduplicated
// on a hash of the signed body instead, which a replay cannot change; a
// partner that resends the same event resends the same body, so real
// redeliveries still collapse.
func (ps *providerState) dedupKey(eventID string, body []byte) string {
	if !ps.bodyDedup {
		return eventID
	}
	sum := sha256.Sum256(body)
	return "body-sha256:" + hex.EncodeToString(sum[:])
}

// sameBuffer reports whether a and b share their backing array.
func sameBuffer(a, b []byte) bool {
	return cap(a) > 0 && cap(b) > 0 && &a[:cap(a)][cap(a)-1] == &b[:cap(b)][cap(b)-1]
}

// Forget drops the cached connection id: a state change (disconnect,
// pause) or a webhook-secret rotation committed in this process applies to
// the next request at once instead of after the cache's few seconds. Other
// processes see it when their own cache entry expires.
func (in *Ingress) Forget(id string) { in.conns.forget(id) }
