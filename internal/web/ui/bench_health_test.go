package ui_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accordhq/accord/internal/access"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/postgres"
	"github.com/accordhq/accord/internal/store/sqlite"
	"github.com/accordhq/accord/internal/web/api"
	"github.com/accordhq/accord/internal/web/ui"
)

// benchEvents is how many events BenchmarkHealthPage stores for one
// installation, spread over the 7 days before benchNow.
const benchEvents = 1_000_000

// benchNow is the benchmark's clock (store and pages): fixed, so a cached
// database stays valid.
var benchNow = time.Date(2026, 6, 1, 12, 30, 0, 0, time.UTC)

// BenchmarkHealthPage renders the Integration Health page of an
// installation with a million events over 7 days, on SQLite and (with
// ACCORD_TEST_POSTGRES) PostgreSQL:
//
//   - empty: the same page for an installation without events (the
//     baseline);
//   - first: the first render, which fills the hourly rollups (they are
//     emptied before each iteration, outside the timer);
//   - steady: later renders, reading the rollups.
//
// first and steady also report x-empty, their time over the baseline's
// (20 renders of the empty page just before, in the same run), and
// ms/render. The seeded database is cached
// (SQLite: a file under os.TempDir(); PostgreSQL: a schema), keyed by the
// migrations' names and the seed.
func BenchmarkHealthPage(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		path := benchDatabase(b)
		raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		must0(b, err)
		defer raw.Close()
		reset := func() {
			for _, table := range []string{"event_rollups", "event_latency_rollups"} {
				_, err := raw.Exec("DELETE FROM " + table)
				must0(b, err)
			}
		}
		reset()
		st, err := sqlite.Open(context.Background(), path, &sqlite.Config{Now: func() time.Time { return benchNow }, Logger: slog.New(slog.DiscardHandler)})
		must0(b, err)
		defer st.Close()
		benchHealth(b, st, reset)
	})
	b.Run("postgres", func(b *testing.B) {
		dsn := os.Getenv("ACCORD_TEST_POSTGRES")
		if dsn == "" {
			b.Skip("set ACCORD_TEST_POSTGRES=postgres://… to run it on PostgreSQL")
		}
		ctx := context.Background()
		schema := benchSchema(b, dsn)
		admin, err := pgx.Connect(ctx, dsn)
		must0(b, err)
		defer admin.Close(ctx)
		reset := func() {
			_, err := admin.Exec(ctx, "TRUNCATE "+schema+".event_rollups, "+schema+".event_latency_rollups")
			must0(b, err)
		}
		reset()
		st, err := postgres.Open(ctx, dsn, &postgres.Config{Schema: schema, Now: func() time.Time { return benchNow }, Logger: slog.New(slog.DiscardHandler)})
		must0(b, err)
		defer st.Close()
		benchHealth(b, st, reset)
	})
}

// benchHealth runs the three renders on a seeded store; reset empties
// its rollups.
func benchHealth(b *testing.B, st store.Store, reset func()) {
	page := newBenchPages(b, st)
	const full, empty = "/ui/t/acme/installations/inst_escalation", "/ui/t/empty/installations/inst_empty"
	baseline := func() time.Duration {
		const n = 20
		start := time.Now()
		for range n {
			page(empty)
		}
		return time.Since(start) / n
	}
	ratio := func(b *testing.B, elapsed time.Duration, base time.Duration) {
		per := elapsed / time.Duration(b.N)
		b.ReportMetric(float64(per)/float64(base), "x-empty")
		b.ReportMetric(float64(per.Microseconds())/1000, "ms/render")
	}
	if body := page(full); !strings.Contains(body, "Receipt → write latency, Last 7 days (") || strings.Contains(body, "(0 applied events)") {
		b.Fatalf("the page does not show the seeded events")
	}

	b.Run("empty", func(b *testing.B) {
		for b.Loop() {
			page(empty)
		}
	})
	b.Run("first", func(b *testing.B) {
		base := baseline()
		var elapsed time.Duration
		b.ResetTimer()
		for range b.N {
			b.StopTimer()
			reset()
			b.StartTimer()
			start := time.Now()
			page(full)
			elapsed += time.Since(start)
		}
		ratio(b, elapsed, base)
	})
	b.Run("steady", func(b *testing.B) {
		page(full) // fills the rollups
		base := baseline()
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			page(full)
		}
		ratio(b, time.Since(start), base)
	})
}

// newBenchPages serves the pages on st, signs in as the admin, and
// returns a function that renders a page and returns its body.
func newBenchPages(b *testing.B, st store.Store) func(path string) string {
	providers := map[string]*spec.Provider{
		"helpdesk":  {Name: "helpdesk", Title: "Helpdesk"},
		"incidents": {Name: "incidents", Title: "Incidents"},
	}
	contract := &spec.Contract{Name: "escalation", Version: "1.0.0", Title: "Escalate tickets to incidents",
		Providers: []string{"helpdesk", "incidents"},
		Triggers: map[string]*spec.Trigger{"escalated": {Name: "escalated",
			Webhook: &spec.WebhookTrigger{Provider: "helpdesk", Events: []string{"ticket.updated"}}}},
		Actions: []*spec.Action{{Trigger: "escalated", Provider: "incidents", Object: "incident", Op: spec.OpCreate}},
	}
	versions := map[string]map[string]*spec.Contract{"escalation": {"1.0.0": contract}}
	signer, err := access.NewSigner(access.DeriveKey([]byte("ui bench master key"), "ui"))
	if err != nil {
		b.Fatal(err)
	}
	now := func() time.Time { return benchNow }
	admin := api.New(api.Deps{Store: st, Token: adminToken, Signer: signer, Providers: providers,
		Contracts: map[string]*spec.Contract{"escalation": contract}, Versions: versions})
	pages, err := ui.New(ui.Deps{Store: st, API: admin, Signer: signer, Providers: providers, Versions: versions, Now: now},
		&ui.Config{AdminToken: adminToken})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	for p, h := range pages.Routes() {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) string {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return string(body)
	}
	m := csrfField.FindStringSubmatch(get("/ui/login"))
	if m == nil {
		b.Fatal("no csrf token on the login page")
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/ui/login", strings.NewReader(url.Values{"token": {adminToken}, "csrf": {m[1]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", srv.URL)
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("login: %d", resp.StatusCode)
	}
	return get
}

// benchDatabase returns the path of a database with the seed, building
// it under os.TempDir() unless a copy for this schema is there.
func benchDatabase(b *testing.B) string {
	dir := filepath.Join(os.TempDir(), "accord-bench-health")
	path := filepath.Join(dir, benchKey(b)+".db")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	tmp := path + ".building"
	for _, suffix := range []string{"", "-wal", "-shm", ".lock"} {
		_ = os.Remove(tmp + suffix)
	}
	b.Logf("seeding %d events into %s (cached for the next run)", benchEvents, path)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, tmp, &sqlite.Config{Now: func() time.Time { return benchNow }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	must0(b, st.Migrate(ctx))
	benchTenants(b, st)
	must0(b, st.Close())

	raw, err := sql.Open("sqlite", "file:"+tmp+"?_pragma=synchronous(OFF)")
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)
	tx, err := raw.Begin()
	if err != nil {
		b.Fatal(err)
	}
	stmt, err := tx.Prepare(`INSERT INTO events (tenant_id, id, connection_id, dedup_key, type, object_id, object_version,
		payload, received_at, state, outcome, done_at) VALUES ('acme', ?, 'conn_helpdesk', ?, 'ticket.updated', ?, ?, NULL, ?, 'done', ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	start := benchNow.Add(-7 * 24 * time.Hour)
	step := 7 * 24 * time.Hour / benchEvents
	for i := range benchEvents {
		received := start.Add(time.Duration(i) * step)
		outcome := "applied"
		switch r := rng.IntN(100); {
		case r < 4:
			outcome = "failed"
		case r < 9:
			outcome = "filtered"
		}
		// Log-normal latencies around 400 ms.
		latency := time.Duration(float64(400*time.Millisecond) * math.Exp(rng.NormFloat64()))
		id := fmt.Sprintf("evt_%07d", i)
		if _, err := stmt.Exec(id, id, fmt.Sprintf("T-%d", i%50_000), received.UnixNano(), received.UnixNano(), outcome,
			received.Add(latency).UnixNano()); err != nil {
			b.Fatal(err)
		}
	}
	must0(b, stmt.Close())
	must0(b, tx.Commit())
	_, err = raw.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	must0(b, err)
	must0(b, raw.Close())
	_ = os.Remove(tmp + ".lock")
	must0(b, os.Rename(tmp, path))
	return path
}

// benchTenants creates the seeded installation (acme) and the empty one.
func benchTenants(b *testing.B, st store.Store) {
	ctx := context.Background()
	for _, tenant := range []struct{ id, inst string }{{"acme", "inst_escalation"}, {"empty", "inst_empty"}} {
		conns := map[string]string{}
		must0(b, st.CreateTenant(ctx, store.Tenant{ID: tenant.id, Name: tenant.id}))
		for _, p := range []string{"helpdesk", "incidents"} {
			must0(b, st.CreateConnection(ctx, store.Connection{TenantID: tenant.id, ID: "conn_" + p, Provider: p, State: store.ConnectionActive}))
			conns[p] = "conn_" + p
		}
		must0(b, st.CreateInstallation(ctx, store.Installation{TenantID: tenant.id, ID: tenant.inst, Contract: "escalation",
			ContractVersion: "1.0.0", State: store.InstallationActive, Connections: conns}))
	}
}

// benchSchema returns the name of a PostgreSQL schema with the seed,
// building it unless it is there.
func benchSchema(b *testing.B, dsn string) string {
	ctx := context.Background()
	schema := "accord_bench_health_" + benchKey(b)
	admin, err := pgx.Connect(ctx, dsn)
	must0(b, err)
	defer admin.Close(ctx)
	var n int64
	if err := admin.QueryRow(ctx, "SELECT count(*) FROM "+schema+".events").Scan(&n); err == nil && n == benchEvents {
		return schema
	}
	b.Logf("seeding %d events into schema %s (kept for the next run)", benchEvents, schema)
	_, err = admin.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
	must0(b, err)
	_, err = admin.Exec(ctx, "CREATE SCHEMA "+schema)
	must0(b, err)
	st, err := postgres.Open(ctx, dsn, &postgres.Config{Schema: schema, Now: func() time.Time { return benchNow }, Logger: slog.New(slog.DiscardHandler)})
	must0(b, err)
	must0(b, st.Migrate(ctx))
	benchTenants(b, st)
	must0(b, st.Close())
	// One statement: 4% failed, 5% filtered, the rest applied with
	// latencies from 55 ms to 3 s around 400 ms.
	_, err = admin.Exec(ctx, `INSERT INTO `+schema+`.events (tenant_id, id, connection_id, dedup_key, type, object_id,
			object_version, payload, received_at, state, outcome, done_at)
		SELECT 'acme', id, 'conn_helpdesk', id, 'ticket.updated', 'T-' || (i % 50000), received_ns, NULL,
			to_timestamp(received_ns / 1e9), 'done',
			CASE WHEN r < 0.04 THEN 'failed' WHEN r < 0.09 THEN 'filtered' ELSE 'applied' END,
			to_timestamp(received_ns / 1e9) + make_interval(secs => 0.4 * exp((r2 - 0.5) * 4))
		FROM (SELECT i, 'evt_' || lpad(i::text, 7, '0') AS id, $1::bigint + i * $2::bigint AS received_ns,
				random() AS r, random() AS r2
			FROM generate_series(0, $3::bigint - 1) AS i) AS s`,
		benchNow.Add(-7*24*time.Hour).UnixNano(), int64(7*24*time.Hour/benchEvents), benchEvents)
	must0(b, err)
	_, err = admin.Exec(ctx, "ANALYZE "+schema+".events")
	must0(b, err)
	return schema
}

// benchKey names the cached seed: the migrations and the seed's size.
func benchKey(b *testing.B) string {
	names, err := filepath.Glob("../../store/sqlite/migrations/*.sql")
	if err != nil || len(names) == 0 {
		b.Fatalf("listing migrations: %v", err)
	}
	pg, _ := filepath.Glob("../../store/postgres/migrations/*.sql")
	sum := sha256.Sum256([]byte(strings.Join(append(names, pg...), "\n") + fmt.Sprint(benchEvents, benchNow.Unix())))
	return hex.EncodeToString(sum[:8])
}

func must0(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
