package loadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
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
	app       *app.App
	url       string
	incidents *sim.Incidents
	chat      *sim.Chat
	hooks     []string // per tenant: /hooks/{helpdesk connection}
	cleanups  []func()
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
	incURL, err := s.incidents.Start(ctx, "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting incidents simulator: %w", err)
	}
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
	a, err := app.New(ctx, cfg, c.Logger, &app.Options{Engine: &eng, Queue: c.Queue})
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

	admin := &adminClient{base: s.url, client: &http.Client{Timeout: 10 * time.Second}}
	for t := range c.Tenants {
		hd, err := admin.install(ctx, fmt.Sprintf("tenant-%03d", t))
		if err != nil {
			return nil, err
		}
		s.hooks = append(s.hooks, s.url+"/hooks/"+hd)
	}
	return s, nil
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

// adminClient does the operator's setup through the admin API.
type adminClient struct {
	base   string
	client *http.Client
}

// install creates a tenant with its three connections and the escalation
// installation, and returns the helpdesk connection id.
func (c *adminClient) install(ctx context.Context, tenant string) (string, error) {
	if err := c.do(ctx, "/api/v1/tenants", map[string]string{"id": tenant, "name": tenant}, nil); err != nil {
		return "", err
	}
	conns := map[string]string{}
	for _, p := range []struct{ provider, key, secret string }{
		{"helpdesk", helpdeskToken, webhookSecret},
		{"incidents", incidentsToken, ""},
		{"chat", chatToken, ""},
	} {
		body := map[string]string{"provider": p.provider, "api_key": p.key}
		if p.secret != "" {
			body["webhook_secret"] = p.secret
		}
		var out struct {
			ID string `json:"id"`
		}
		if err := c.do(ctx, "/api/v1/tenants/"+tenant+"/connections", body, &out); err != nil {
			return "", err
		}
		conns[p.provider] = out.ID
	}
	err := c.do(ctx, "/api/v1/tenants/"+tenant+"/installations",
		map[string]any{"contract": "escalation", "connections": conns}, nil)
	return conns["helpdesk"], err
}

func (c *adminClient) do(ctx context.Context, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("loadtest: POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("loadtest: POST %s: %s: %s", path, resp.Status, raw)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return errors.Join(fmt.Errorf("loadtest: POST %s: decoding answer", path), err)
	}
	return nil
}
