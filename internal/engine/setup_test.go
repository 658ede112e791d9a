package engine_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/postgres"
	"github.com/accordhq/accord/internal/store/sqlite"
)

// simToken is the static credential every connection authorises with.
const simToken = "t"

// pauseInterval is set explicitly so tests can tell a paused connection's
// snooze from a Retry-After one.
const pauseInterval = 45 * time.Second

// clock is a settable clock shared by the engine, its connectors and the
// simulators.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// staticCredentials stands in for the vault: every connection signs in with
// the same bearer token, which the simulators accept.
type staticCredentials struct{}

func (staticCredentials) Authorizer(_ context.Context, _ store.Connection, _ *spec.Provider) (connector.Authorizer, error) {
	return connector.Bearer{Token: simToken}, nil
}

// partnerRequest is one request the incidents simulator received.
type partnerRequest struct{ Method, Path string }

// incidentsFront sits in front of the incidents simulator: it records the
// requests and can make incidents disappear, as a partner-side deletion
// would (the simulator itself has no delete).
type incidentsFront struct {
	next http.Handler

	mu       sync.Mutex
	requests []partnerRequest
	deleted  map[string]bool
	done     int // requests answered (or abandoned by their client)
}

// answered is how many requests the simulator has finished with.
func (f *incidentsFront) answered() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.done
}

func (f *incidentsFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, partnerRequest{r.Method, r.URL.Path})
	gone := f.deleted[strings.TrimPrefix(r.URL.Path, "/v1/incidents/")]
	f.mu.Unlock()
	if gone {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"message":"incident not found"}}`))
		return
	}
	f.next.ServeHTTP(w, r)
	f.mu.Lock()
	f.done++
	f.mu.Unlock()
}

func (f *incidentsFront) delete(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.deleted == nil {
		f.deleted = map[string]bool{}
	}
	f.deleted[id] = true
}

// writes returns the POST and PATCH requests, in order.
func (f *incidentsFront) writes() []partnerRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []partnerRequest
	for _, r := range f.requests {
		if r.Method == http.MethodPost || r.Method == http.MethodPatch {
			out = append(out, r)
		}
	}
	return out
}

type testBundle struct {
	newEngine func(t *testing.T) *engine.Engine
	engine    *engine.Engine
	store     store.Store
	clock     *clock
	reg       *prometheus.Registry
	incidents *sim.Incidents
	front     *incidentsFront
	chat      *sim.Chat
	alerts    chan engine.Alert
	// queue is set by useQueue.
	queue *queue.Queue

	incidentsURL  string
	tenantID      string
	installation  store.Installation
	helpdeskConn  string
	incidentsConn string
	chatConn      string
}

type setupOpts struct {
	// editContract rewrites a copy of the pack's escalation.yaml.
	editContract func(t *testing.T, yaml string) string
	// editIncidents rewrites a copy of the pack's incidents manifest.
	editIncidents func(t *testing.T, yaml string) string
	// editHelpdesk rewrites a copy of the pack's helpdesk manifest.
	editHelpdesk func(t *testing.T, yaml string) string
	// config adjusts the engine's Config before New.
	config func(c *engine.Config)
	// simSleep replaces the simulators' wait (slow and hang_after faults),
	// so a test decides when a slow partner answers.
	simSleep func(ctx context.Context, d time.Duration) error
	// credentials replaces the static bearer token.
	credentials func(tb *testBundle) engine.Credentials
	// catalog adjusts the catalog before the engine is built (more
	// contract versions…).
	catalog func(t *testing.T, c *engine.Catalog)
	// postgres runs the bundle on PostgreSQL (ACCORD_TEST_POSTGRES; the
	// test skips without it) instead of SQLite.
	postgres bool
}

// upsertIncidents makes create_incident an upsert, so later escalated
// versions update the incident instead of only advancing the watermark.
func upsertIncidents(onMissing string) func(t *testing.T, yaml string) string {
	return func(t *testing.T, yaml string) string {
		const old = "    object: incident\n    op: create\n"
		require.Contains(t, yaml, old, "the pack's contract changed shape; update the test's edit")
		repl := "    object: incident\n    op: upsert\n"
		if onMissing != "" {
			repl += "    on_missing: " + onMissing + "\n"
		}
		return strings.Replace(yaml, old, repl, 1)
	}
}

func setup(t *testing.T) *testBundle { return setupWith(t, setupOpts{}) }

func setupWith(t *testing.T, opts setupOpts) *testBundle {
	t.Helper()
	ctx := t.Context()
	clk := &clock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}

	packDir := filepath.Join("..", "..", "packs", "support-escalation")
	if opts.editContract != nil || opts.editIncidents != nil || opts.editHelpdesk != nil {
		dir := t.TempDir()
		require.NoError(t, os.CopyFS(dir, os.DirFS(packDir)))
		edit := func(file string, fn func(*testing.T, string) string) {
			if fn == nil {
				return
			}
			raw, err := os.ReadFile(file)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(file, []byte(fn(t, string(raw))), 0o600))
		}
		edit(filepath.Join(dir, "contracts", "escalation.yaml"), opts.editContract)
		edit(filepath.Join(dir, "providers", "incidents.yaml"), opts.editIncidents)
		edit(filepath.Join(dir, "providers", "helpdesk.yaml"), opts.editHelpdesk)
		packDir = dir
	}
	b, diags := spec.LoadDir(packDir)
	require.NoError(t, diags.Err())
	require.Contains(t, b.Contracts, "escalation")

	// The simulators share the engine's clock; their own rate limit is off so
	// a frozen clock never starves them (429s are injected explicitly).
	simCfg := &sim.Config{Token: simToken, Now: clk.Now, RateLimit: -1, Sleep: opts.simSleep}
	incidents := sim.NewIncidents(simCfg)
	front := &incidentsFront{next: incidents.Handler()}
	incSrv := httptest.NewServer(front)
	t.Cleanup(incSrv.Close)
	chat := sim.NewChat(simCfg)
	chatSrv := httptest.NewServer(chat.Handler())
	t.Cleanup(chatSrv.Close)

	alerts := make(chan engine.Alert, 16)
	alertSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var al engine.Alert
		if err := json.NewDecoder(r.Body).Decode(&al); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		alerts <- al
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(alertSrv.Close)

	var st store.Store
	if opts.postgres {
		dsn := os.Getenv("ACCORD_TEST_POSTGRES")
		if dsn == "" {
			t.Skip("set ACCORD_TEST_POSTGRES=postgres://… to run the PostgreSQL tests")
		}
		st = postgres.OpenTestSchema(t, dsn)
	} else {
		st = sqlite.OpenTest(t)
	}
	tb := &testBundle{
		store: st, clock: clk, reg: prometheus.NewRegistry(), incidents: incidents, front: front, chat: chat,
		alerts: alerts, incidentsURL: incSrv.URL, tenantID: "ten_acme",
		helpdeskConn: "conn_helpdesk", incidentsConn: "conn_incidents", chatConn: "conn_chat",
	}
	require.NoError(t, st.CreateTenant(ctx, store.Tenant{ID: tb.tenantID, Name: "Acme"}))
	for provider, id := range map[string]string{"helpdesk": tb.helpdeskConn, "incidents": tb.incidentsConn, "chat": tb.chatConn} {
		require.NoError(t, st.CreateConnection(ctx, store.Connection{
			TenantID: tb.tenantID, ID: id, Provider: provider, State: store.ConnectionActive, Secret: []byte("sealed"),
		}))
	}
	tb.installation = store.Installation{
		TenantID: tb.tenantID, ID: "inst_escalation", Contract: "escalation", ContractVersion: "1.0.0",
		State:       store.InstallationActive,
		Connections: map[string]string{"helpdesk": tb.helpdeskConn, "incidents": tb.incidentsConn, "chat": tb.chatConn},
	}
	require.NoError(t, st.CreateInstallation(ctx, tb.installation))

	env := map[string]string{"INCIDENTS_URL": incSrv.URL, "CHAT_URL": chatSrv.URL}
	cfg := &engine.Config{
		PauseInterval: pauseInterval,
		Connector: &connector.Config{
			AllowLoopback: true,
			LookupEnv: func(k string) (string, bool) {
				v, ok := env[k]
				return v, ok
			},
		},
	}
	if opts.config != nil {
		opts.config(cfg)
	}
	var credentials engine.Credentials = staticCredentials{}
	if opts.credentials != nil {
		credentials = opts.credentials(tb)
	}
	cat := &engine.Catalog{Providers: b.Providers}
	for _, c := range b.Contracts {
		require.NoError(t, cat.Add(c))
	}
	if opts.catalog != nil {
		opts.catalog(t, cat)
	}
	e, err := engine.New(engine.Deps{
		Store:       st,
		Catalog:     cat,
		Credentials: credentials,
		Alerter:     engine.NewAlerter(alertSrv.URL, slog.New(slog.DiscardHandler), tb.reg),
		Registerer:  tb.reg,
		Now:         clk.Now,
	}, cfg)
	require.NoError(t, err)
	tb.engine = e
	// Registered after the store's cleanup, so it runs before the store
	// closes; Close is safe to call again after a test's own.
	t.Cleanup(e.Close)
	tb.newEngine = func(t *testing.T) *engine.Engine {
		other, err := engine.New(engine.Deps{Store: st, Catalog: cat, Credentials: credentials, Now: clk.Now}, cfg)
		require.NoError(t, err)
		t.Cleanup(other.Close)
		return other
	}
	return tb
}

// secondEngine is another process's engine over the same database,
// catalog and partners.
func (tb *testBundle) secondEngine(t *testing.T) *engine.Engine {
	t.Helper()
	return tb.newEngine(t)
}

// ticket is a helpdesk ticket as its webhook carries it. An empty Priority
// is left out of the payload.
type ticket struct {
	ID       string
	Version  int
	Title    string
	Priority string
	Status   string
}

func (tk ticket) url() string { return "https://helpdesk.example/tickets/" + tk.ID }

func (tk ticket) data() map[string]any {
	d := map[string]any{
		"id": tk.ID, "title": tk.Title, "description": "Customer " + tk.ID + " cannot log in",
		"status": tk.Status, "customer_id": "cus_1", "url": tk.url(), "version": tk.Version,
		"created_at": "2026-03-02T08:00:00Z", "updated_at": "2026-03-02T08:30:00Z",
	}
	if tk.Priority != "" {
		d["priority"] = tk.Priority
	}
	return d
}

func escalated(id string, version int, title, priority string) ticket {
	return ticket{ID: id, Version: version, Title: title, Priority: priority, Status: "escalated"}
}

// event stores tk as a ticket.updated webhook received now, as ingress
// would, and returns the job for it.
func (tb *testBundle) event(t *testing.T, tk ticket) engine.DeliverArgs {
	t.Helper()
	return tb.eventOn(t, tb.helpdeskConn, tk)
}

// eventOn is event received through the helpdesk connection connID.
func (tb *testBundle) eventOn(t *testing.T, connID string, tk ticket) engine.DeliverArgs {
	t.Helper()
	evID := "evt_" + uuid.NewString()
	body, err := json.Marshal(map[string]any{
		"id": evID, "type": "ticket.updated", "timestamp": tb.clock.Now(), "data": tk.data(),
	})
	require.NoError(t, err)
	ev := store.Event{
		TenantID: tb.tenantID, ID: "ev_" + uuid.NewString(), ConnectionID: connID, DedupKey: evID,
		Type: "ticket.updated", ObjectID: tk.ID, ObjectVersion: int64(tk.Version), Payload: body,
		ReceivedAt: tb.clock.Now(),
	}
	inserted, err := tb.store.InsertEvent(t.Context(), ev)
	require.NoError(t, err)
	require.True(t, inserted)
	return engine.DeliverArgs{TenantID: tb.tenantID, EventID: ev.ID}
}

func (tb *testBundle) deliver(t *testing.T, args engine.DeliverArgs) error {
	t.Helper()
	return tb.engine.DeliverForTest(t.Context(), args)
}

// incidentLink is the link the engine keeps from a ticket to its incident.
func (tb *testBundle) incidentLink(t *testing.T, ticketID string) (store.Link, error) {
	t.Helper()
	return tb.store.GetLink(t.Context(), store.LinkKey{
		TenantID: tb.tenantID, InstallationID: tb.installation.ID, SourceObject: "ticket",
		SourceID: ticketID, TargetObject: "incidents.incident", Action: "create_incident",
	})
}

func (tb *testBundle) onlyIncident(t *testing.T) sim.Incident {
	t.Helper()
	all := tb.incidents.Incidents()
	require.Len(t, all, 1, "exactly one incident")
	return all[0]
}

func (tb *testBundle) recordErrors(t *testing.T) []store.RecordError {
	t.Helper()
	res, err := tb.store.ListRecordErrors(t.Context(), tb.tenantID, store.RecordErrorFilter{})
	require.NoError(t, err)
	return res
}

func (tb *testBundle) connection(t *testing.T, id string) store.Connection {
	t.Helper()
	c, err := tb.store.GetConnection(t.Context(), tb.tenantID, id)
	require.NoError(t, err)
	return c
}

// counter sums the samples of the counter (or the observations of the
// histogram) name whose labels include want (an empty value matches any).
func (tb *testBundle) counter(t *testing.T, name string, want map[string]string) float64 {
	t.Helper()
	families, err := tb.reg.Gather()
	require.NoError(t, err)
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if v != "" && have[k] != v {
					continue metric
				}
			}
			// A histogram contributes its number of observations.
			sum += m.GetCounter().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

func (tb *testBundle) actions(t *testing.T, provider, outcome string) float64 {
	t.Helper()
	return tb.counter(t, "accord_actions_total", map[string]string{"tenant": tb.tenantID, "provider": provider, "outcome": outcome})
}

// retries counts runs of an action that did not finish it, by reason.
func (tb *testBundle) retries(t *testing.T, provider, reason string) float64 {
	t.Helper()
	return tb.counter(t, "accord_action_retries_total", map[string]string{"tenant": tb.tenantID, "provider": provider, "reason": reason})
}

// events counts events by final outcome.
func (tb *testBundle) events(t *testing.T, outcome string) float64 {
	t.Helper()
	return tb.counter(t, "accord_event_outcomes_total", map[string]string{"tenant": tb.tenantID, "outcome": outcome})
}

// waitAlert returns the next alert POSTed to the alert webhook. The
// alerter posts in the background, so this waits (bounded) rather than
// asserting a timing.
func (tb *testBundle) waitAlert(t *testing.T) engine.Alert {
	t.Helper()
	select {
	case al := <-tb.alerts:
		return al
	case <-time.After(10 * time.Second):
		t.Fatal("no alert reached the alert webhook")
		return engine.Alert{}
	}
}

// requireSnooze asserts err snoozes the job (River reschedules it without
// using an attempt) and returns for how long.
func requireSnooze(t *testing.T, err error) time.Duration {
	t.Helper()
	var snooze *river.JobSnoozeError
	require.True(t, errors.As(err, &snooze), "want a River snooze, got %v", err)
	return snooze.Duration
}

// requireRetry asserts err makes River retry the job with backoff: an
// error that is neither a snooze nor a cancellation.
func requireRetry(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	var snooze *river.JobSnoozeError
	require.False(t, errors.As(err, &snooze), "want a retry, got a snooze: %v", err)
	var cancel *rivertype.JobCancelError
	require.False(t, errors.As(err, &cancel), "want a retry, got a cancellation: %v", err)
}

type engineArgs = engine.DeliverArgs

func itoa(i int) string { return strconv.Itoa(i) }

func jsonBody(t *testing.T, v any) *bytes.Reader {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return bytes.NewReader(b)
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

// useQueue gives the engine an insert-only queue on the test store, built
// as the app builds it (the engine's kinds registered first): hand-offs and
// sweeps insert real River jobs that no worker runs, so a test reads them.
func (tb *testBundle) useQueue(t *testing.T) *queue.Queue {
	t.Helper()
	reg := queue.NewRegistry()
	require.NoError(t, tb.engine.Register(reg))
	q, err := queue.New(tb.store, reg, &queue.Config{Workers: false, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.NoError(t, q.Migrate(t.Context()))
	tb.engine.UseQueue(q)
	tb.queue = q
	return q
}

// dispatcher starts a fast path that the test's cleanup closes. Tests that
// close it themselves call NewDispatcher directly.
func (tb *testBundle) dispatcher(t *testing.T, cfg *engine.DispatcherConfig) *engine.Dispatcher {
	t.Helper()
	d := tb.engine.NewDispatcher(cfg)
	t.Cleanup(func() { d.Close(context.Background()) })
	return d
}

// pendingEvent stores tk as event does and returns the event as ingress
// hands it to the fast path.
func (tb *testBundle) pendingEvent(t *testing.T, tk ticket) store.Event {
	t.Helper()
	args := tb.event(t, tk)
	ev, err := tb.store.GetEvent(t.Context(), tb.tenantID, args.EventID)
	require.NoError(t, err)
	require.Equal(t, store.EventPending, ev.State)
	return ev
}

func (tb *testBundle) eventState(t *testing.T, id string) store.EventState {
	t.Helper()
	ev, err := tb.store.GetEvent(t.Context(), tb.tenantID, id)
	require.NoError(t, err)
	return ev.State
}

// waitEventState waits (bounded) until the event's state is want: the fast
// path works in the background and marks done in batches.
func (tb *testBundle) waitEventState(t *testing.T, id string, want store.EventState) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := tb.eventState(t, id)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s: state %q, want %q", id, got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// deliverJobs returns every delivery job in the queue, oldest first.
func (tb *testBundle) deliverJobs(t *testing.T) []queue.Job {
	t.Helper()
	rows, err := tb.store.Driver().(*sql.DB).QueryContext(t.Context(),
		"SELECT id FROM river_job WHERE kind = ? ORDER BY id", engine.KindDeliver)
	require.NoError(t, err)
	var ids []int64
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	jobs := make([]queue.Job, len(ids))
	for i, id := range ids {
		jobs[i], err = tb.queue.JobByID(t.Context(), id)
		require.NoError(t, err)
	}
	return jobs
}

func jobArgs(t *testing.T, j queue.Job) engine.DeliverArgs {
	t.Helper()
	var args engine.DeliverArgs
	require.NoError(t, json.Unmarshal(j.Args, &args))
	return args
}

// eventJobArgs is what a job for ev must carry: the event's ids, and its
// object and version so newer versions in flight go first.
func eventJobArgs(ev store.Event) engine.DeliverArgs {
	return engine.DeliverArgs{TenantID: ev.TenantID, EventID: ev.ID, ConnectionID: ev.ConnectionID, ObjectID: ev.ObjectID, ObjectVersion: ev.ObjectVersion,
		ReceivedAt: ev.ReceivedAt.Truncate(time.Microsecond).UnixNano()}
}

// slowGate is the simulators' Sleep for slow faults: a slow request
// reports on entered and is answered when the test closes release (or the
// client gives up), so a test knows a delivery is in flight without
// sleeping.
type slowGate struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	// test ends before the cleanups run: a test that fails while a request
	// is held must not leave the server's or the dispatcher's Close
	// waiting for it.
	test context.Context
}

func newSlowGate(t *testing.T) *slowGate {
	return &slowGate{entered: make(chan struct{}, 16), release: make(chan struct{}), test: t.Context()}
}

// open answers the held request and every later slow one at once.
func (g *slowGate) open() { g.once.Do(func() { close(g.release) }) }

func (g *slowGate) sleep(ctx context.Context, _ time.Duration) error {
	g.entered <- struct{}{}
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-g.test.Done():
		return g.test.Err()
	}
}

// waitEntered waits (bounded) until a slow request is being held.
func (g *slowGate) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no request reached the slow partner")
	}
}

// eachStore runs fn on SQLite and, with ACCORD_TEST_POSTGRES set, on
// PostgreSQL (where object leases are cross-process).
func eachStore(t *testing.T, fn func(t *testing.T, pg bool)) {
	t.Helper()
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, pg)
		})
	}
}

// setupOn is setupWith on SQLite or PostgreSQL.
func setupOn(t *testing.T, pg bool, opts setupOpts) *testBundle {
	t.Helper()
	opts.postgres = pg
	return setupWith(t, opts)
}
