package webhook_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/sqlite"
	"github.com/accordhq/accord/internal/webhook"
	"github.com/accordhq/accord/internal/webhook/signature"
)

// The ingress runs on the real queue.
var _ webhook.Queue = (*queue.Queue)(nil)

// eventJobArgs is the job the tests enqueue per accepted event.
type eventJobArgs struct {
	TenantID string `json:"tenant_id"`
	EventID  string `json:"event_id"`
}

func (eventJobArgs) Kind() string { return "webhook_test_event" }

// unregisteredArgs is a job kind River refuses: a poisoned item.
type unregisteredArgs struct{}

func (unregisteredArgs) Kind() string { return "webhook_test_unregistered" }

type noopWorker struct {
	river.WorkerDefaults[eventJobArgs]
}

func (noopWorker) Work(context.Context, *river.Job[eventJobArgs]) error { return nil }

// testNow is the clock every test runs at.
var testNow = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

const (
	tenantID = "ten_acme"
	connID   = "conn_helpdesk_0123456789"
	// otherConnID is a second active connection, with secretA.
	otherConnID = "conn_helpdesk_other"
	// secretA/B are distinctive so a leak into logs is easy to spot.
	secretA = "whsec_c2VjcmV0LWFhYWEtZG8tbm90LWxvZw=="
	secretB = "whsec_c2VjcmV0LWJiYmItZG8tbm90LWxvZw=="
)

// helpdeskProvider mirrors the shipped pack's helpdesk: standard-webhooks
// signatures, event fields in the body.
func helpdeskProvider(maxBody spec.ByteSize) *spec.Provider {
	return &spec.Provider{
		Name: "helpdesk",
		Webhooks: &spec.Webhooks{
			Signature:     spec.Signature{Scheme: spec.SigStandardWebhooks},
			MaxBody:       maxBody,
			EventID:       "id",
			EventType:     "type",
			ObjectID:      "data.id",
			ObjectVersion: "data.updated_at",
			VersionKind:   "timestamp",
			Object:        "data",
			Events: map[string]*spec.EventType{
				"ticket.escalated": {Object: "ticket"},
				"ticket.updated":   {Object: "ticket"},
			},
		},
	}
}

type staticSecrets map[string][][]byte

func (s staticSecrets) WebhookSecrets(_ context.Context, c store.Connection) ([][]byte, error) {
	return s[c.ID], nil
}

// syncBuffer collects log output from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type options struct {
	cfg     *webhook.Config
	maxBody spec.ByteSize
	secrets [][]byte
	// provider replaces the built-in helpdesk manifest.
	provider *spec.Provider
	// fastInsert gives the ingress a queue with InsertManyFastTx.
	fastInsert bool
	// poison makes NewJob return a job River refuses for this dedup key.
	poison string
	open   func(t testing.TB) store.Store
	// dispatch, when set, puts the ingress in fast-path mode: events are
	// stored pending and handed to it, with no job.
	dispatch func([]store.Event)
	// wrap, when set, replaces the store the ingress sees (the bundle keeps
	// the real one), to inject faults.
	wrap func(store.Store) store.Store
	// now replaces the fixed test clock.
	now func() time.Time
}

type bundle struct {
	st      store.Store
	q       *queue.Queue
	ingress *webhook.Ingress
	srv     *httptest.Server
	reg     *prometheus.Registry
	logs    *syncBuffer
	scheme  signature.Scheme
}

// openSQLite opens a copy of a template database, migrated and seeded
// once per test binary: migrating River with synchronous=FULL costs dozens
// of fsyncs, too slow to repeat in every test.
func openSQLite(t testing.TB) store.Store {
	t.Helper()
	templateOnce.Do(func() { templatePath, templateErr = buildTemplate() })
	require.NoError(t, templateErr)
	src, err := os.ReadFile(templatePath)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "accord.db")
	require.NoError(t, os.WriteFile(path, src, 0o600))
	st, err := sqlite.Open(context.Background(), path, &sqlite.Config{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

var (
	templateOnce sync.Once
	templatePath string
	templateErr  error
	templateDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if templateDir != "" {
		_ = os.RemoveAll(templateDir)
	}
	os.Exit(code)
}

func buildTemplate() (string, error) {
	dir, err := os.MkdirTemp("", "accord-webhook-test-")
	if err != nil {
		return "", err
	}
	templateDir = dir
	path := filepath.Join(dir, "template.db")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path, &sqlite.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return "", err
	}
	if err := st.Migrate(ctx); err != nil {
		return "", err
	}
	if err := prepare(ctx, st); err != nil {
		return "", err
	}
	// Closing the last connection checkpoints the WAL into the file.
	return path, st.Close()
}

// newQueue builds an insert-only queue knowing the test job kind.
func newQueue(st store.Store) (*queue.Queue, error) {
	reg := queue.NewRegistry()
	if err := queue.AddWorker(reg, river.Worker[eventJobArgs](noopWorker{})); err != nil {
		return nil, err
	}
	return queue.New(st, reg, &queue.Config{Logger: slog.New(slog.DiscardHandler)})
}

// prepare migrates the queue and creates the tenant and its connections.
func prepare(ctx context.Context, st store.Store) error {
	q, err := newQueue(st)
	if err != nil {
		return err
	}
	if err := q.Migrate(ctx); err != nil {
		return err
	}
	if err := st.CreateTenant(ctx, store.Tenant{ID: tenantID, Name: "Acme"}); err != nil {
		return err
	}
	if err := st.CreateConnection(ctx, store.Connection{
		TenantID: tenantID, ID: connID, Provider: "helpdesk", State: store.ConnectionActive,
	}); err != nil {
		return err
	}
	if err := st.CreateConnection(ctx, store.Connection{
		TenantID: tenantID, ID: otherConnID, Provider: "helpdesk", State: store.ConnectionActive,
	}); err != nil {
		return err
	}
	return st.CreateConnection(ctx, store.Connection{
		TenantID: tenantID, ID: "conn_gone", Provider: "helpdesk", State: store.ConnectionDisconnected,
	})
}

func setup(t testing.TB, o options) *bundle {
	t.Helper()
	if o.open == nil {
		o.open = openSQLite
	}
	if o.secrets == nil {
		o.secrets = [][]byte{[]byte(secretA)}
	}
	st := o.open(t)
	q, err := newQueue(st)
	require.NoError(t, err)
	var ingressQueue webhook.Queue = q
	if o.fastInsert {
		ingressQueue = newFastQueue(t, st, q)
	}

	provider := o.provider
	if provider == nil {
		provider = helpdeskProvider(o.maxBody)
	}
	var ingressStore store.Store = st
	if o.wrap != nil {
		ingressStore = o.wrap(st)
	}
	now := o.now
	if now == nil {
		now = func() time.Time { return testNow }
	}
	logs := &syncBuffer{}
	promReg := prometheus.NewRegistry()
	in, err := webhook.NewIngress(webhook.Deps{
		Store: ingressStore,
		Queue: ingressQueue,
		Providers: func(name string) (*spec.Provider, bool) {
			return provider, name == "helpdesk"
		},
		Secrets: staticSecrets{connID: o.secrets, otherConnID: {[]byte(secretA)}},
		NewJob: func(e store.Event) river.InsertManyParams {
			if o.poison != "" && e.DedupKey == o.poison {
				return river.InsertManyParams{Args: unregisteredArgs{}}
			}
			return river.InsertManyParams{Args: eventJobArgs{TenantID: e.TenantID, EventID: e.ID}}
		},
		Dispatch:   o.dispatch,
		Logger:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registerer: promReg,
		Now:        now,
	}, o.cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = in.Close() })

	mux := http.NewServeMux()
	mux.Handle(webhook.Pattern, in)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	scheme, err := signature.New(spec.SigStandardWebhooks, signature.Options{})
	require.NoError(t, err)
	return &bundle{st: st, q: q, ingress: in, srv: srv, reg: promReg, logs: logs, scheme: scheme}
}

// ticketEvent is a helpdesk webhook body.
func ticketEvent(id, typ, ticket string, updated time.Time, extra string) []byte {
	return []byte(`{"id":"` + id + `","type":"` + typ + `","data":{"id":"` + ticket +
		`","updated_at":"` + updated.Format(time.RFC3339Nano) + `","subject":"Printer on fire"` + extra + `}}`)
}

// signed builds a request to conn signed with secret at the given time.
func (b *bundle) signed(t testing.TB, conn string, body []byte, secret string, at time.Time, deliveryID string) *http.Request {
	t.Helper()
	h, err := b.scheme.Sign(body, []byte(secret), at, deliveryID)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/hooks/"+conn, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	return req
}

type reply struct {
	status int
	body   string
}

func (b *bundle) do(t testing.TB, req *http.Request) reply {
	t.Helper()
	resp, err := b.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{status: resp.StatusCode, body: string(body)}
}

// send signs body with secretA now and posts it to the test connection.
func (b *bundle) send(t testing.TB, body []byte) reply {
	t.Helper()
	return b.do(t, b.signed(t, connID, body, secretA, testNow, fmt.Sprintf("msg_%d", deliveries.Add(1))))
}

var deliveries atomic.Int64

// countEvents counts the event rows: the store has no list call for
// events, and the test must see rows a wrong implementation would add.
func (b *bundle) countEvents(t testing.TB) int {
	t.Helper()
	var n int
	switch db := b.st.Driver().(type) {
	case *sql.DB:
		require.NoError(t, db.QueryRow(`SELECT count(*) FROM events`).Scan(&n))
	default:
		n = countEventsPostgres(t, db)
	}
	return n
}

// countJobs counts the queued jobs (the queue here never works them).
func (b *bundle) countJobs(t testing.TB) int {
	t.Helper()
	n, err := b.q.Depth(context.Background())
	require.NoError(t, err)
	return n
}
