package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/app"
	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/web/api"
	"github.com/accordhq/accord/internal/web/status"
)

// Tokens and secrets the simulators and Accord share in every test.
const (
	adminToken     = "e2e-admin-token"
	tenantID       = "acme"
	helpdeskToken  = "hd-token"
	incidentsToken = "inc-token"
	chatToken      = "chat-token"
	webhookSecret  = "e2e-webhook-signing-secret-0123456789"
	chatChannel    = "escalations"
)

// waitFor bounds every wait on the system under test. Generous: the
// machine is shared, and a passing run never waits this long.
const waitFor = 30 * time.Second

// packsDir is the repository's packs directory, found from this file so the
// tests run from any working directory.
func packsDir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "packs")
	_, err := os.Stat(filepath.Join(dir, "support-escalation", "pack.yaml"))
	require.NoError(t, err, "the support-escalation pack")
	return dir
}

// backend names a database for a test run: "sqlite" or "postgres".
type backend string

func backends() []backend {
	return []backend{"sqlite", "postgres"}
}

// database returns the --db value and master key for a fresh database of
// kind b, or skips the test when PostgreSQL is not configured.
func database(t *testing.T, b backend) (db, masterKey string) {
	t.Helper()
	key, err := credential.GenerateMasterKey()
	require.NoError(t, err)
	if b == "sqlite" {
		return "sqlite:" + filepath.Join(t.TempDir(), "accord.db"), key
	}
	dsn := os.Getenv("ACCORD_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("set ACCORD_TEST_POSTGRES=postgres://… to run the PostgreSQL tests")
	}
	return postgresSchema(t, dsn), key
}

// postgresSchema creates a schema of its own for one test and returns a DSN
// whose every connection (Accord's pool and River's) uses it, because the
// process configuration names only a DSN.
func postgresSchema(t *testing.T, dsn string) string {
	t.Helper()
	ctx := context.Background()
	schema := "accord_e2e_" + randomSuffix(t)
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
	require.NoError(t, err)
	// Registered before the app starts, so it runs after the app stops.
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("options", "-csearch_path="+schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomSuffix(t *testing.T) string {
	t.Helper()
	var b [8]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return hex.EncodeToString(b[:])
}

// env is one running Accord with its three partners, set up as an operator
// would: a tenant, three connections and the escalation installation.
type env struct {
	t         *testing.T
	app       *app.App
	url       string // Accord's base URL
	helpdesk  *sim.Helpdesk
	incidents *sim.Incidents
	chat      *sim.Chat
	// incidentCalls is every request the incidents simulator answered.
	incidentCalls *requestLog
	// Connection and installation ids.
	helpdeskConn, incidentsConn, chatConn, installation string
}

// setup starts the simulators and Accord on a fresh database of kind b and
// installs the support-escalation pack for tenant acme.
func setup(t *testing.T, b backend) *env {
	t.Helper()
	return setupWith(t, b, nil)
}

// setupOptions are what a test may change about setup; nil or zero fields
// keep setup's choices.
type setupOptions struct {
	// Seed seeds the simulators' random fault modes (0: their default), so
	// a soak run can be replayed.
	Seed uint64
	// Limiter configures the partners' rate limiters.
	Limiter *connector.LimiterConfig
	// NoInstall leaves the tenant, connections and installation to the
	// test (one that installs through webhook registration).
	NoInstall bool
	// Status tunes the partner-status monitor; nil takes its defaults.
	Status *status.Config
	// Packs is the packs directory; default the shipped packs.
	Packs string
}

// setupWith is setup with opts.
func setupWith(t *testing.T, b backend, opts *setupOptions) *env {
	t.Helper()
	if opts == nil {
		opts = &setupOptions{}
	}
	db, key := database(t, b)
	e := &env{t: t}
	// Each simulator draws its own sequence, so they do not fail in step.
	seedOf := func(i uint64) uint64 {
		if opts.Seed == 0 {
			return 0
		}
		return opts.Seed + i
	}

	e.helpdesk = sim.NewHelpdesk(&sim.Config{Token: helpdeskToken, DeliveryBackoff: 50 * time.Millisecond, Seed: seedOf(0)})
	t.Cleanup(e.helpdesk.Stop)
	hdURL, err := e.helpdesk.Start(t.Context(), "127.0.0.1:0")
	require.NoError(t, err)

	// Served through a recorder so tests can see what Accord asked the
	// partner and when. No rate limit: tests inject 429s exactly.
	e.incidents = sim.NewIncidents(&sim.Config{Token: incidentsToken, RateLimit: -1, Seed: seedOf(1)})
	t.Cleanup(e.incidents.Stop)
	e.incidentCalls = &requestLog{}
	incSrv := httptest.NewServer(e.incidentCalls.wrap(e.incidents.Handler()))
	t.Cleanup(incSrv.Close)

	e.chat = sim.NewChat(&sim.Config{Token: chatToken, Seed: seedOf(2)})
	t.Cleanup(e.chat.Stop)
	chatURL, err := e.chat.Start(t.Context(), "127.0.0.1:0")
	require.NoError(t, err)

	partners := map[string]string{"HELPDESK_URL": hdURL, "INCIDENTS_URL": incSrv.URL, "CHAT_URL": chatURL}
	packs := opts.Packs
	if packs == "" {
		packs = packsDir(t)
	}
	a := startAppOpts(t, packs, db, key, partners, opts.Limiter, opts.Status)
	e.app = a
	e.url = "http://" + a.Addr()

	if opts.NoInstall {
		return e
	}
	e.helpdeskConn, e.incidentsConn, e.chatConn, e.installation = install(t, e.url, adminToken, tenantID,
		helpdeskToken, incidentsToken, chatToken, webhookSecret)
	// Subscribed by hand, as an operator pasting the hook URL: the
	// connection has its webhook secret, so Accord does not register it
	// through the helpdesk's API as well (that would double deliveries).
	e.helpdesk.Subscribe(e.url+"/hooks/"+e.helpdeskConn, webhookSecret)
	return e
}

// startApp starts Accord in this process over db, with the shipped packs,
// fast queue polling and retries, and the manifests' base URL variables
// answered from partners instead of the process environment, so tests run
// in parallel. It stops when the test ends.
func startApp(t *testing.T, db, key string, partners map[string]string, limiter *connector.LimiterConfig) *app.App {
	t.Helper()
	return startAppWith(t, packsDir(t), db, key, partners, limiter)
}

// startAppWith is startApp with another packs directory.
func startAppWith(t *testing.T, packs, db, key string, partners map[string]string, limiter *connector.LimiterConfig) *app.App {
	t.Helper()
	return startAppOpts(t, packs, db, key, partners, limiter, nil)
}

// startAppOpts is startAppWith with the partner-status monitor tuned.
func startAppOpts(t *testing.T, packs, db, key string, partners map[string]string, limiter *connector.LimiterConfig,
	st *status.Config,
) *app.App {
	t.Helper()
	cfg := config.Defaults()
	cfg.DB, cfg.MasterKey, cfg.Addr = db, key, "127.0.0.1:0"
	cfg.Packs = packs
	cfg.AllowLoopbackPartners = true
	cfg.AdminToken = adminToken
	cfg.Workers = 50
	cfg.ShutdownTimeout = 5 * time.Second
	require.NoError(t, cfg.Validate())

	a, err := app.New(t.Context(), cfg, testLogger(t), &app.Options{
		Engine: &engine.Config{
			PauseInterval: 200 * time.Millisecond,
			Connector: &connector.Config{
				AllowLoopback: true,
				Timeout:       10 * time.Second,
				Limiter:       limiter,
				LookupEnv:     func(k string) (string, bool) { v, ok := partners[k]; return v, ok },
			},
		},
		Queue: &queue.Config{
			FetchCooldown:     5 * time.Millisecond,
			FetchPollInterval: 50 * time.Millisecond,
			RetryPolicy:       fastRetry{},
		},
		Status: st,
	})
	require.NoError(t, err)
	require.NoError(t, a.Start(t.Context()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, a.Stop(ctx))
	})
	return a
}

// install is the operator's setup through the admin API: tenant, the three
// connections, the escalation installation.
func install(t *testing.T, base, admin, tenant, hdToken, incToken, chatTok, secret string) (hd, inc, chat, inst string) {
	t.Helper()
	c := &api.Client{BaseURL: base, Token: admin}
	_, err := c.CreateTenant(t.Context(), tenant, "Acme Corp")
	require.NoError(t, err)
	in, conns, err := c.InstallContract(t.Context(), tenant, "escalation", map[string]api.ConnectionInput{
		"helpdesk":  {APIKey: hdToken, WebhookSecret: secret},
		"incidents": {APIKey: incToken},
		"chat":      {APIKey: chatTok},
	})
	require.NoError(t, err)
	return conns["helpdesk"].ID, conns["incidents"].ID, conns["chat"].ID, in.ID
}

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("ACCORD_E2E_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fastRetry retries a failed job after 100ms: the tests check that a
// transient failure is retried, not River's backoff curve.
type fastRetry struct{}

func (fastRetry) NextRetry(*rivertype.JobRow) time.Time {
	return time.Now().Add(100 * time.Millisecond)
}

// api is the admin API client with the operator token. Its calls require
// the status each endpoint documents (201, 200, 202…).
func (e *env) api() *api.Client { return &api.Client{BaseURL: e.url, Token: adminToken} }

func (e *env) recordErrors() []api.RecordError {
	e.t.Helper()
	list, err := e.api().ListRecordErrors(e.t.Context(), tenantID, "")
	require.NoError(e.t, err)
	return list
}

func (e *env) connectionState(id string) string {
	e.t.Helper()
	c, err := e.api().GetConnection(e.t.Context(), tenantID, id)
	require.NoError(e.t, err)
	return c.State
}

// incidentFor returns the incidents opened for a ticket.
func (e *env) incidentsFor(ticketID string) []sim.Incident {
	var out []sim.Incident
	for _, in := range e.incidents.Incidents() {
		if in.ExternalID == ticketID {
			out = append(out, in)
		}
	}
	return out
}

// waitIncident waits until the ticket has an incident and returns it.
func (e *env) waitIncident(ticketID string) sim.Incident {
	e.t.Helper()
	require.Eventually(e.t, func() bool { return len(e.incidentsFor(ticketID)) > 0 }, waitFor, 10*time.Millisecond,
		"no incident for ticket %s", ticketID)
	return e.incidentsFor(ticketID)[0]
}

// escalate opens a ticket and escalates it: two webhooks, the second
// matching the contract's trigger.
func (e *env) escalate(title, priority, description string) sim.Ticket {
	e.t.Helper()
	tk, err := e.helpdesk.CreateTicket(sim.Ticket{Title: title, Priority: priority, Description: description})
	require.NoError(e.t, err)
	tk, err = e.helpdesk.Escalate(tk.ID)
	require.NoError(e.t, err)
	return tk
}

// barrier escalates a fresh ticket and waits for its incident. Work queued
// before it has had the same chance to happen, so a test can then assert
// that something did not happen without sleeping.
func (e *env) barrier() {
	e.t.Helper()
	tk := e.escalate("barrier", "low", "")
	e.waitIncident(tk.ID)
	// Events are delivered concurrently, so the barrier's incident alone
	// says nothing about the others: wait until the fast path has finished
	// (or handed to the queue) every event it took. An event leaves
	// pending only once all its actions are done.
	require.Eventually(e.t, func() bool {
		pending, err := e.app.Store.ListPendingEvents(context.Background(), time.Now().Add(time.Hour), 1)
		return err == nil && len(pending) == 0
	}, waitFor, 10*time.Millisecond, "events still pending after the barrier")
}

// counter sums a counter's series whose labels include labels.
func counter(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue series
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

// requestLog records the requests a simulator answered, with their status
// and the time the answer was written.
type requestLog struct {
	mu    sync.Mutex
	calls []call
	// fail, when set and true for a request, answers it 503 instead of
	// passing it on (a partner failing one page of a list).
	fail func(r *http.Request) bool
}

type call struct {
	Method, Path string
	Query        string
	Header       http.Header
	Status       int
	At           time.Time
}

func (l *requestLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		l.mu.Lock()
		fail := l.fail != nil && l.fail(r)
		l.mu.Unlock()
		if fail {
			http.Error(sw, `{"error":{"message":"temporarily unavailable"}}`, http.StatusServiceUnavailable)
		} else {
			h.ServeHTTP(sw, r)
		}
		l.mu.Lock()
		l.calls = append(l.calls, call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(),
			Status: sw.status, At: time.Now()})
		l.mu.Unlock()
	})
}

func (l *requestLog) all() []call {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]call(nil), l.calls...)
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(s int) {
	if !w.wrote {
		w.status, w.wrote = s, true
	}
	w.ResponseWriter.WriteHeader(s)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}
