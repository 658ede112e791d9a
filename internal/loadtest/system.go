package loadtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accordhq/accord/internal/app"
	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/web/api"
)

// Secrets the simulators and Accord share for a run. Not secret: loopback
// only, fresh database each run.
const (
	adminToken     = "loadtest-admin-token"
	incidentsToken = "loadtest-incidents-token"
	chatToken      = "loadtest-chat-token"
	helpdeskToken  = "loadtest-helpdesk-token"
	webhookSecret  = "loadtest-webhook-signing-secret-0123456789"
	// chatChannel is where the escalation contract posts (its default).
	chatChannel = "escalations"
)

// system is one running Accord with its partners and the operator's setup
// done: one helpdesk connection per tenant to send webhooks to.
type system struct {
	app *app.App
	// done records when each event's delivery became final (every
	// action's partner write answered and its link committed), by the
	// partner's event id.
	done      *completions
	url       string
	incidents *sim.Incidents
	chat      *sim.Chat
	// calls counts the requests the incidents simulator answered, per
	// tenant (bearer token).
	calls    *partnerLog
	hooks    []string // per tenant: /hooks/{helpdesk connection}
	tenants  []string // per tenant: its id
	incToken []string // per tenant: its incidents token, a fault can target one
	cleanups []func()
}

// close stops everything in reverse start order.
func (s *system) close() {
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		s.cleanups[i]()
	}
}

// dialect names the database kind of a --db value for the table.
func dialect(db string) string {
	if db == "" {
		return "sqlite"
	}
	d, _, err := config.ParseDB(db)
	if err != nil {
		return db
	}
	return d
}

func startSystem(ctx context.Context, c *Config) (_ *system, err error) {
	s := &system{}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	db, err := s.database(ctx, c)
	if err != nil {
		return nil, err
	}

	// No simulator rate limit: Accord's own limiter (from the manifest) is
	// what the run exercises, and the sim must not be the bottleneck.
	s.incidents = sim.NewIncidents(&sim.Config{Token: incidentsToken, RateLimit: -1})
	s.cleanups = append(s.cleanups, s.incidents.Stop)
	// Served through a counter: what each tenant asked the partner, and
	// how fast, is what the fairness and backlog scenarios report.
	s.calls = newPartnerLog()
	incSrv := httptest.NewServer(s.calls.wrap(s.incidents.Handler()))
	s.cleanups = append(s.cleanups, incSrv.Close)
	incURL := incSrv.URL
	s.chat = sim.NewChat(&sim.Config{Token: chatToken})
	s.cleanups = append(s.cleanups, s.chat.Stop)
	chatURL, err := s.chat.Start(ctx, "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting chat simulator: %w", err)
	}

	key, err := credential.GenerateMasterKey()
	if err != nil {
		return nil, err
	}
	cfg := config.Defaults()
	cfg.DB = db
	cfg.MasterKey = key
	cfg.Addr = "127.0.0.1:0"
	cfg.Packs = c.Packs
	cfg.AllowLoopbackPartners = true
	cfg.AdminToken = adminToken
	cfg.Workers = c.Workers
	cfg.SQLiteSynchronous = c.SQLiteSynchronous
	cfg.ShutdownTimeout = 10 * time.Second
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	partners := map[string]string{"INCIDENTS_URL": incURL, "CHAT_URL": chatURL}
	eng := engine.Config{}
	if c.Engine != nil {
		eng = *c.Engine
	}
	eng.Connector = &connector.Config{
		AllowLoopback: true,
		Timeout:       10 * time.Second,
		LookupEnv:     func(k string) (string, bool) { v, ok := partners[k]; return v, ok },
	}
	s.done = newCompletions(!c.countOnly)
	a, err := app.New(ctx, cfg, c.Logger, &app.Options{Engine: &eng, Queue: c.Queue, OnEventFinal: s.done.record})
	if err != nil {
		return nil, fmt.Errorf("loadtest: building accord: %w", err)
	}
	if err := a.Start(ctx); err != nil {
		_ = a.Stop(context.Background())
		return nil, fmt.Errorf("loadtest: starting accord: %w", err)
	}
	s.app = a
	s.cleanups = append(s.cleanups, func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = a.Stop(stopCtx)
	})
	s.url = "http://" + a.Addr()

	admin := &api.Client{BaseURL: s.url, Token: adminToken, HTTP: &http.Client{Timeout: 10 * time.Second}}
	for t := range c.Tenants {
		tenant := fmt.Sprintf("tenant-%03d", t)
		// A token per tenant, so a fault can hit one tenant's partner.
		tok := incidentsToken + "-" + tenant
		s.incidents.GrantScope(tok, sim.ScopeIncidentsRead)
		s.incidents.GrantScope(tok, sim.ScopeIncidentsWrite)
		hookPath, err := install(ctx, admin, tenant, tok)
		if err != nil {
			return nil, err
		}
		s.hooks = append(s.hooks, s.url+hookPath)
		s.tenants = append(s.tenants, tenant)
		s.incToken = append(s.incToken, tok)
	}
	return s, nil
}

// install creates a tenant with its three connections and the escalation
// installation, and returns the helpdesk connection's webhook path.
func install(ctx context.Context, admin *api.Client, tenant, incToken string) (string, error) {
	if _, err := admin.CreateTenant(ctx, tenant, tenant); err != nil {
		return "", fmt.Errorf("loadtest: %w", err)
	}
	_, conns, err := admin.InstallContract(ctx, tenant, "escalation", map[string]api.ConnectionInput{
		"helpdesk":  {APIKey: helpdeskToken, WebhookSecret: webhookSecret},
		"incidents": {APIKey: incToken},
		"chat":      {APIKey: chatToken},
	})
	if err != nil {
		return "", fmt.Errorf("loadtest: tenant %s: %w", tenant, err)
	}
	return conns["helpdesk"].HookPath, nil
}

// database returns the --db value for the run: a fresh SQLite file, or a
// fresh schema in the PostgreSQL database c.DB names.
func (s *system) database(ctx context.Context, c *Config) (string, error) {
	if c.DB == "" {
		dir, err := os.MkdirTemp("", "accord-loadtest-")
		if err != nil {
			return "", fmt.Errorf("loadtest: %w", err)
		}
		s.cleanups = append(s.cleanups, func() { _ = os.RemoveAll(dir) })
		return "sqlite:" + filepath.Join(dir, "accord.db"), nil
	}
	d, _, err := config.ParseDB(c.DB)
	if err != nil {
		return "", err
	}
	if d != "postgres" {
		return c.DB, nil
	}
	return s.postgresSchema(ctx, c.DB)
}

// postgresSchema creates a schema for this run and returns a DSN whose
// every connection (Accord's pool and River's) uses it.
func (s *system) postgresSchema(ctx context.Context, dsn string) (string, error) {
	schema := "accord_loadtest_" + strings.ToLower(rand.Text()[:12])
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", fmt.Errorf("loadtest: connecting to postgres: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return "", fmt.Errorf("loadtest: creating schema: %w", err)
	}
	s.cleanups = append(s.cleanups, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("loadtest: postgres dsn: %w", err)
	}
	q := u.Query()
	q.Set("options", "-csearch_path="+schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
