package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/web/api"
)

func testConfig(t *testing.T, db string) *config.Config {
	cfg := config.Defaults()
	cfg.DB = db
	cfg.Addr = "127.0.0.1:0"
	cfg.Packs = "../../packs"
	cfg.AdminToken = "test-admin-token"
	cfg.ShutdownTimeout = 10 * time.Second
	if !strings.HasPrefix(db, "sqlite:") {
		cfg.MasterKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	}
	require.NoError(t, cfg.Validate())
	return cfg
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// serveAndProbe starts the process, checks its probes and metrics, then
// stops it the way SIGTERM does.
func serveAndProbe(t *testing.T, cfg *config.Config) {
	ctx, cancel := context.WithCancel(context.Background())
	a, err := New(ctx, cfg, slog.New(slog.DiscardHandler), &Options{})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	require.Eventually(t, func() bool { return a.Addr() != "" }, 10*time.Second, 5*time.Millisecond)
	base := "http://" + a.Addr()

	code, body := get(t, base+"/healthz")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"status":"ok"}`, body)
	code, body = get(t, base+"/readyz")
	require.Equal(t, http.StatusOK, code, body)
	require.JSONEq(t, `{"database":"ok","queue":"ok"}`, body)
	code, body = get(t, base+"/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "accord_build_info{")
	require.Contains(t, body, `accord_http_request_duration_seconds_count{code="200",method="GET",route="GET /readyz"} 1`)

	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/contracts", nil)
	req.Header.Set("Authorization", "Bearer test-admin-token")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(b), `"name":"escalation"`, "the shipped pack is loaded")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "a signal stops the process cleanly")
	case <-time.After(15 * time.Second):
		t.Fatal("process did not stop")
	}
	_, err = http.Get(base + "/healthz")
	require.Error(t, err, "nothing listens after stop")
}

func TestServeSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "accord.db")
	serveAndProbe(t, testConfig(t, "sqlite:"+path))
	_, err := os.Stat(path)
	require.NoError(t, err, "serve creates the database file")
	info, err := os.Stat(path + ".key")
	require.NoError(t, err, "serve creates a master key beside the database")
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	// A second start on the same file finds everything migrated.
	serveAndProbe(t, testConfig(t, "sqlite:"+path))
}

func TestServePostgres(t *testing.T) {
	t.Parallel()
	dsn := os.Getenv("ACCORD_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("set ACCORD_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run the PostgreSQL tests")
	}
	serveAndProbe(t, testConfig(t, postgresTestSchema(t, dsn)))
}

// postgresTestSchema creates a schema of its own for one test, dropped
// afterwards, and returns a DSN that uses it.
func postgresTestSchema(t *testing.T, dsn string) string {
	t.Helper()
	schema := "accord_app_" + strings.ReplaceAll(time.Now().Format("150405.000000000"), ".", "")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

// A worker-only process used to have no listener at all, so its delivery
// metrics were recorded where nothing could scrape them. It serves
// /healthz, /readyz and /metrics on its address, and nothing else.
func TestRoleWorkerServesOnlyOperationsEndpoints(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, "sqlite:"+filepath.Join(t.TempDir(), "accord.db"))
	cfg.Role = config.RoleWorker
	a, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler), &Options{})
	require.NoError(t, err)
	require.NoError(t, a.Start(context.Background()))
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	require.Nil(t, a.Ingress)
	require.NotEmpty(t, a.Addr())
	base := "http://" + a.Addr()
	code, _ := get(t, base+"/healthz")
	require.Equal(t, http.StatusOK, code)
	code, _ = get(t, base+"/readyz")
	require.Equal(t, http.StatusOK, code)
	code, body := get(t, base+"/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "accord_delivery_panics_total", "the engine's metrics are served where the work happens")
	require.Contains(t, body, "accord_queue_stranded_jobs")
	code, _ = get(t, base+"/api/v1/tenants")
	require.Equal(t, http.StatusNotFound, code, "no admin API on a worker")
	code, _ = get(t, base+"/hooks/conn_x")
	require.Equal(t, http.StatusNotFound, code, "no webhooks on a worker")
}

func TestBadPackStopsStartWithPositions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "broken", "providers"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "broken", "providers", "p.yaml"),
		[]byte("accord: provider/v1\nname: p\nbase_url: http://127.0.0.1:1\nauth: {kind: bearer}\nobjcts: {}\n"), 0o644))
	cfg := testConfig(t, "sqlite:"+filepath.Join(t.TempDir(), "accord.db"))
	cfg.Packs = dir
	_, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler), &Options{})
	require.Error(t, err)
	require.Contains(t, err.Error(), "p.yaml:5:1:")
}

func TestMetricsShowQueueDepthAndConnectionsByState(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, "sqlite:"+filepath.Join(t.TempDir(), "accord.db"))
	a, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler), &Options{})
	require.NoError(t, err)
	require.NoError(t, a.Start(context.Background()))
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	base := "http://" + a.Addr()

	client := &api.Client{BaseURL: base, Token: cfg.AdminToken}
	ctx := context.Background()
	_, err = client.CreateTenant(ctx, "acme", "Acme")
	require.NoError(t, err)
	_, err = client.CreateConnection(ctx, "acme", api.ConnectionInput{Provider: "incidents", APIKey: "k-123"})
	require.NoError(t, err)

	_, body := get(t, base+"/metrics")
	require.Contains(t, body, `accord_connections{state="active"} 1`)
	require.Contains(t, body, "\naccord_queue_depth 0\n", "the queue depth gauge is sampled from the start")
}

// A database path whose directory does not exist says so, with the path
// and the setting to change.
func TestMissingSQLiteDirectoryIsNamed(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, "sqlite:"+filepath.Join(t.TempDir(), "missing", "accord.db"))
	_, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler), &Options{})
	require.ErrorContains(t, err, "missing does not exist: create it, or point --db")
}
