package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
	_ "modernc.org/sqlite"

	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/webhook/signature"
)

// secretSet is every secret value the run handed out or was handed, to be
// looked for in everything Accord wrote.
type secretSet struct {
	mu     sync.Mutex
	values map[string]string // value → what it is
}

func (s *secretSet) add(what, v string) {
	if v == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = map[string]string{}
	}
	s.values[v] = what
}

func (s *secretSet) all() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.values))
	for k, v := range s.values {
		out[k] = v
	}
	return out
}

// syncBuffer is the log sink: the app logs from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func randomSecret(t *testing.T, label string) string {
	t.Helper()
	var b [16]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return label + "-" + hex.EncodeToString(b[:])
}

// leakOP is a real OAuth 2.0 / OpenID provider (zitadel's op package with
// its example in-memory storage) on loopback. It records every token its
// token endpoint issues, so the test knows the values to look for.
type leakOP struct {
	url string
	st  *storage.Storage
}

const (
	leakClientID = "accord-leak-web"
	// The example storage's client credentials client and its fixed secret.
	leakServiceID     = "sid1"
	leakServiceSecret = "verysecret"
)

func newLeakOP(t *testing.T, clientSecret, redirectURI string, secrets *secretSet) *leakOP {
	t.Helper()
	o := &leakOP{}
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	o.url = srv.URL
	o.st = storage.NewStorageWithClients(storage.NewUserStore(srv.URL), map[string]*storage.Client{
		leakClientID: storage.WebClient(leakClientID, clientSecret, redirectURI),
	})
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:             sha256.Sum256([]byte("leak test op crypto key")),
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
	}, o.st, op.StaticIssuer(srv.URL), op.WithAllowInsecure())
	require.NoError(t, err)

	mux := http.NewServeMux()
	// The OP sends the browser to the client's login page; sign the test
	// user in without a form and hand back to the OP.
	mux.HandleFunc("/login/username", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("authRequestID")
		if err := o.st.CheckUsernamePassword("test-user@127.0.0.1", "verysecure", id); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, srv.URL+"/authorize/callback?id="+id, http.StatusFound)
	})
	mux.Handle("/", provider)
	handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/token" {
			mux.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		var tok struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
			IDToken      string `json:"id_token"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &tok) == nil {
			secrets.add("access token", tok.AccessToken)
			secrets.add("refresh token", tok.RefreshToken)
			secrets.add("id token", tok.IDToken)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
	return o
}

// leakClient calls Accord and keeps every response body it received.
type leakClient struct {
	t      *testing.T
	base   string
	token  string
	mu     sync.Mutex
	bodies []string
}

func (c *leakClient) keep(body string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bodies = append(c.bodies, body)
}

func (c *leakClient) do(method, path string, in any, want int, out any) string {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		require.NoError(c.t, err)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, body)
	require.NoError(c.t, err)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Content-Type", "application/json")
	return c.send(req, want, out)
}

func (c *leakClient) send(req *http.Request, want int, out any) string {
	c.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	c.keep(string(raw))
	require.Equal(c.t, want, resp.StatusCode, "%s %s: %s", req.Method, req.URL.Path, raw)
	if out != nil {
		require.NoError(c.t, json.Unmarshal(raw, out), "%s %s: %s", req.Method, req.URL.Path, raw)
	}
	return string(raw)
}

// freeAddr reserves a loopback port for Accord: its public URL is the OAuth
// redirect URI the OP must know before Accord starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// leakPacks is the shipped support-escalation pack plus this test's OAuth
// providers, in a directory of their own.
func leakPacks(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(dir, "support-escalation"), os.DirFS("../../packs/support-escalation")))
	require.NoError(t, os.CopyFS(filepath.Join(dir, "leak-oauth"), os.DirFS("testdata/leak-oauth")))
	return dir
}

// TestSecretsNeverLeak runs Accord through every path that handles a
// secret — API-key connections, an OAuth connect with the browser, a
// client credentials connect, a test call, a disconnect that revokes at
// the provider, a forged and a genuine webhook, a delivery to the partners
// — then looks for every secret in the logs, the metrics, every response
// and page, and the database. Not parallel: the OAuth clients come from
// the process environment, as in production.
func TestSecretsNeverLeak(t *testing.T) {
	secrets := &secretSet{}
	var (
		adminToken    = randomSecret(t, "admin")
		helpdeskKey   = randomSecret(t, "hdkey")
		incidentsKey  = randomSecret(t, "inckey")
		chatKey       = randomSecret(t, "chatkey")
		webhookSecret = randomSecret(t, "whsec")
		clientSecret  = randomSecret(t, "oauthclient")
	)
	masterKey, err := credential.GenerateMasterKey()
	require.NoError(t, err)
	mk, err := credential.ParseMasterKey(masterKey)
	require.NoError(t, err)
	secrets.add("admin token", adminToken)
	secrets.add("helpdesk api key", helpdeskKey)
	secrets.add("incidents api key", incidentsKey)
	secrets.add("chat api key", chatKey)
	secrets.add("webhook secret", webhookSecret)
	secrets.add("oauth client secret", clientSecret)
	secrets.add("service client secret", leakServiceSecret)
	secrets.add("master key", masterKey)
	secrets.add("master key (hex)", hex.EncodeToString(mk.Key))
	secrets.add("master key (raw url base64)", base64.RawURLEncoding.EncodeToString(mk.Key))

	// Partners: the pack's simulators, holding the tenant's API keys.
	helpdesk := sim.NewHelpdesk(&sim.Config{Token: helpdeskKey})
	t.Cleanup(helpdesk.Stop)
	hdURL, err := helpdesk.Start(t.Context(), "127.0.0.1:0")
	require.NoError(t, err)
	incidents := sim.NewIncidents(&sim.Config{Token: incidentsKey, RateLimit: -1})
	t.Cleanup(incidents.Stop)
	incURL, err := incidents.Start(t.Context(), "127.0.0.1:0")
	require.NoError(t, err)
	chat := sim.NewChat(&sim.Config{Token: chatKey})
	t.Cleanup(chat.Stop)
	chatURL, err := chat.Start(t.Context(), "127.0.0.1:0")
	require.NoError(t, err)
	partners := map[string]string{"HELPDESK_URL": hdURL, "INCIDENTS_URL": incURL, "CHAT_URL": chatURL}

	addr := freeAddr(t)
	base := "http://" + addr
	oidcOP := newLeakOP(t, clientSecret, base+"/connect/callback", secrets)
	t.Setenv("ACCORD_LEAK_OP_URL", oidcOP.url)
	partners["ACCORD_LEAK_OP_URL"] = oidcOP.url
	// The OAuth manager resolves test URLs from the process environment.
	for k, v := range partners {
		t.Setenv(k, v)
	}
	t.Setenv("ACCORD_LEAK_CLIENT_ID", leakClientID)
	t.Setenv("ACCORD_LEAK_CLIENT_SECRET", clientSecret)
	t.Setenv("ACCORD_LEAK_SERVICE_ID", leakServiceID)
	t.Setenv("ACCORD_LEAK_SERVICE_SECRET", leakServiceSecret)

	dbPath := filepath.Join(t.TempDir(), "accord.db")
	cfg := config.Defaults()
	cfg.DB = "sqlite:" + dbPath
	cfg.Addr = addr
	cfg.PublicURL = base
	cfg.MasterKey = masterKey
	cfg.Packs = leakPacks(t)
	cfg.AdminToken = adminToken
	cfg.AllowLoopbackPartners = true
	cfg.ShutdownTimeout = 10 * time.Second
	require.NoError(t, cfg.Validate())

	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := t.Context()
	a, err := New(ctx, cfg, logger, &Options{Engine: &engine.Config{Connector: &connector.Config{
		AllowLoopback: true,
		Timeout:       10 * time.Second,
		LookupEnv:     func(k string) (string, bool) { v, ok := partners[k]; return v, ok },
	}}})
	require.NoError(t, err)
	require.NoError(t, a.Start(ctx))
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = a.Stop(context.Background())
		}
	})
	require.Equal(t, addr, a.Addr())

	c := &leakClient{t: t, base: base, token: adminToken}
	const tenant = "acme"
	c.do(http.MethodPost, "/api/v1/tenants", map[string]string{"id": tenant, "name": "Acme Corp"}, http.StatusCreated, nil)

	// API-key connections and the escalation installation.
	var conn struct {
		ID string `json:"id"`
	}
	connections := "/api/v1/tenants/" + tenant + "/connections"
	c.do(http.MethodPost, connections, map[string]string{"provider": "helpdesk", "api_key": helpdeskKey, "webhook_secret": webhookSecret}, http.StatusCreated, &conn)
	hdConn := conn.ID
	c.do(http.MethodPost, connections, map[string]string{"provider": "incidents", "api_key": incidentsKey}, http.StatusCreated, &conn)
	incConn := conn.ID
	c.do(http.MethodPost, connections, map[string]string{"provider": "chat", "api_key": chatKey}, http.StatusCreated, &conn)
	chatConn := conn.ID
	c.do(http.MethodPost, "/api/v1/tenants/"+tenant+"/installations", map[string]any{
		"contract": "escalation", "connections": map[string]string{"helpdesk": hdConn, "incidents": incConn, "chat": chatConn},
	}, http.StatusCreated, nil)
	c.do(http.MethodPost, connections+"/"+hdConn+"/test", nil, http.StatusOK, nil)

	// An OAuth connect through the browser: session → /connect/start → the
	// OP's login → /connect/callback → Accord's page.
	var session struct {
		URL string `json:"url"`
	}
	c.do(http.MethodPost, "/api/v1/tenants/"+tenant+"/connect-sessions", map[string]string{"provider": "partner", "return_url": "https://app.example.com/settings"}, http.StatusCreated, &session)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/connect/callback" {
			secrets.add("authorization code", req.URL.Query().Get("code"))
		}
		if len(via) > 10 {
			return errors.New("too many redirects")
		}
		return nil
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, session.URL, nil)
	require.NoError(t, err)
	resp, err := browser.Do(req)
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	c.keep(string(page))
	require.Equal(t, http.StatusOK, resp.StatusCode, string(page))
	require.Equal(t, base+"/connect/callback", resp.Request.URL.Scheme+"://"+resp.Request.URL.Host+resp.Request.URL.Path)
	require.Contains(t, string(page), "Connected to Partner")

	var list struct {
		Connections []struct {
			ID       string `json:"id"`
			Provider string `json:"provider"`
			State    string `json:"state"`
		} `json:"connections"`
	}
	c.do(http.MethodGet, connections, nil, http.StatusOK, &list)
	var partnerConn string
	for _, lc := range list.Connections {
		if lc.Provider == "partner" {
			partnerConn = lc.ID
			require.Equal(t, "active", lc.State)
		}
	}
	require.NotEmpty(t, partnerConn)
	c.do(http.MethodPost, connections+"/"+partnerConn+"/test", nil, http.StatusOK, nil)

	// A client credentials connect needs no browser.
	var svc struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	c.do(http.MethodPost, connections+"/oauth", map[string]any{"provider": "service"}, http.StatusCreated, &svc)
	require.Equal(t, "active", svc.State)

	// The tokens the OP issued (seen at its token endpoint) are the ones
	// Accord holds.
	stored, err := a.Store.GetConnection(ctx, tenant, partnerConn)
	require.NoError(t, err)
	sec, err := a.Vault.OpenSecret(ctx, tenant, stored.Secret)
	require.NoError(t, err)
	require.NotEmpty(t, sec.AccessToken)
	require.NotEmpty(t, sec.RefreshToken)
	require.Contains(t, secrets.all(), sec.AccessToken)
	require.Contains(t, secrets.all(), sec.RefreshToken)

	// Disconnect revokes at the provider: the refresh token no longer works.
	var disc struct {
		Revoked bool `json:"revoked_at_provider"`
	}
	c.do(http.MethodPost, connections+"/"+partnerConn+"/disconnect", nil, http.StatusOK, &disc)
	require.True(t, disc.Revoked)
	_, _, oerr := oidcOP.st.GetRefreshTokenInfo(ctx, leakClientID, sec.RefreshToken)
	require.Error(t, oerr, "the refresh token is revoked at the provider")

	// A webhook signed with the wrong secret is refused; a genuine one is
	// delivered to the partners with the tenant's API keys.
	scheme, err := signature.New("standard-webhooks", signature.Options{})
	require.NoError(t, err)
	now := time.Now().UTC()
	ticket := sim.Ticket{ID: "T-1", Title: "Checkout is down", Description: "500 on pay", Priority: "high",
		Status: "escalated", CustomerID: "cust-1", URL: hdURL + "/tickets/T-1", Version: 1, CreatedAt: now, UpdatedAt: now}
	body, err := json.Marshal(map[string]any{"id": "evt_1", "type": "ticket.created", "timestamp": now, "data": ticket})
	require.NoError(t, err)
	hook := func(secret string, want int) {
		t.Helper()
		h, err := scheme.Sign(body, []byte(secret), time.Now(), "evt_1")
		require.NoError(t, err)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/hooks/"+hdConn, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header = h
		req.Header.Set("Content-Type", "application/json")
		c.send(req, want, nil)
	}
	hook(randomSecret(t, "forged"), http.StatusUnauthorized)
	hook(webhookSecret, http.StatusAccepted)
	require.Eventually(t, func() bool { return len(incidents.Incidents()) == 1 && len(chat.Messages("escalations")) == 1 },
		30*time.Second, 20*time.Millisecond, "the escalation reaches the partners")

	// Everything readable from the outside, then the logs of the whole run.
	c.do(http.MethodGet, connections, nil, http.StatusOK, nil)
	for _, id := range []string{hdConn, incConn, chatConn, partnerConn, svc.ID} {
		c.do(http.MethodGet, connections+"/"+id, nil, http.StatusOK, nil)
	}
	c.do(http.MethodGet, "/api/v1/tenants/"+tenant+"/installations", nil, http.StatusOK, nil)
	c.do(http.MethodGet, "/api/v1/tenants/"+tenant+"/record-errors", nil, http.StatusOK, nil)
	c.do(http.MethodGet, "/api/v1/providers", nil, http.StatusOK, nil)
	metrics := c.do(http.MethodGet, "/metrics", nil, http.StatusOK, nil)
	require.Contains(t, metrics, "accord_token_refresh_total", "the scrape includes the OAuth metrics")
	stopped = true
	require.NoError(t, a.Stop(context.Background()))

	logText := logs.String()
	require.Contains(t, logText, `"msg":"accord stopped"`, "the logs of the whole run were captured")
	for _, line := range strings.Split(logText, "\n") {
		if line != "" {
			require.True(t, json.Valid([]byte(line)), "every log line is one JSON record: %s", line)
		}
	}
	c.mu.Lock()
	bodies := append([]string(nil), c.bodies...)
	c.mu.Unlock()
	all := secrets.all()
	require.GreaterOrEqual(t, len(all), 14, "the tokens the OP issued are among the secrets looked for")
	// Each leak is reported with the line or body it was found in.
	scan := func(where string, texts []string) {
		t.Helper()
		for _, text := range texts {
			for v, what := range all {
				if strings.Contains(text, v) {
					t.Errorf("the %s reached %s: %s", what, where, text)
				}
			}
		}
	}
	scan("the logs", strings.Split(logText, "\n"))
	scan("the metrics", strings.Split(metrics, "\n"))
	scan("a response or page", bodies)

	// The sealed column holds no plaintext.
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT id, secret FROM connections")
	require.NoError(t, err)
	defer rows.Close()
	sealed := 0
	for rows.Next() {
		var id string
		var blob []byte
		require.NoError(t, rows.Scan(&id, &blob))
		for v, what := range all {
			if bytes.Contains(blob, []byte(v)) {
				t.Errorf("connection %s stores the %s in plaintext", id, what)
			}
		}
		if len(blob) > 0 {
			sealed++
		}
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 4, sealed, "three API-key connections and the client credentials one hold sealed secrets; the disconnected one none")
}
