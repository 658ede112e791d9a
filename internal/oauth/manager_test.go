package oauth_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/oauth"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/sqlite"
)

const tenantID = "tenant-1"

type bundle struct {
	st       store.Store
	vault    *credential.Vault
	m        *oauth.Manager
	op       *testOP
	accord   *httptest.Server
	resource *httptest.Server
	reg      *prometheus.Registry
	logs     *lockedBuffer
	offset   atomic.Int64 // added to time.Now: tests move the clock, never sleep
	changes  chan store.Connection
	alerts   chan oauth.OperatorAlert
	secrets  sync.Map // every secret value seen, for the leak scan
	kms      credential.KMS
	// newManager builds another Manager over the same store and providers:
	// a second Accord process.
	newManager func(t *testing.T, vault *credential.Vault, reg prometheus.Registerer) *oauth.Manager
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return setupWith(t, sqlite.OpenTest(t))
}

func setupWith(t *testing.T, st store.Store) *bundle {
	t.Helper()
	b := &bundle{st: st, reg: prometheus.NewRegistry(), logs: &lockedBuffer{}, changes: make(chan store.Connection, 100),
		alerts: make(chan oauth.OperatorAlert, 100)}
	ctx := context.Background()
	require.NoError(t, b.st.CreateTenant(ctx, store.Tenant{ID: tenantID, Name: "Tenant One"}))

	mk, err := credential.GenerateMasterKey()
	require.NoError(t, err)
	key, err := credential.ParseMasterKey(mk)
	require.NoError(t, err)
	kms, err := credential.NewLocalKMS(key)
	require.NoError(t, err)
	b.vault, err = credential.NewVault(b.st, kms, nil)
	require.NoError(t, err)

	var accordHandler http.Handler
	b.accord = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { accordHandler.ServeHTTP(w, r) }))
	t.Cleanup(b.accord.Close)
	b.op = newTestOP(t, b.accord.URL+"/connect/callback")

	// The partner API: a request is authorised when the OP's userinfo
	// endpoint accepts its bearer token.
	b.resource = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, b.op.URL+"/userinfo", nil)
		req.Header.Set("Authorization", r.Header.Get("Authorization"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		_, _ = w.Write(append([]byte("ok:"), body...))
	}))
	t.Cleanup(b.resource.Close)

	scopes := []oauth.Scope{
		{Name: "openid", Description: "Know who you are"},
		{Name: "offline_access", Description: "Stay connected when you are away"},
		{Name: "custom_scope", Description: "Read and update tickets"},
	}
	codeProvider := func(name, clientID, secret string, auth oauth.ClientAuth, extra ...oauth.Scope) *oauth.ProviderConfig {
		return &oauth.ProviderConfig{
			Name: name, DisplayName: "Partner " + name, AuthKind: oauth.AuthCode,
			AuthURL: b.op.URL + "/authorize", TokenURL: b.op.URL + "/oauth/token", RevokeURL: b.op.URL + "/revoke",
			ClientID: clientID, ClientSecret: secret, ClientAuth: auth,
			Scopes:     append(append([]oauth.Scope(nil), scopes...), extra...),
			AuthParams: map[string]string{"prompt": "consent"},
			TestURL:    b.resource.URL + "/me",
		}
	}
	// A provider whose manifest declares a connection setting.
	zen := codeProvider("zen", confidentialID, confidentialSecret, oauth.ClientSecretBasic)
	zen.Manifest = &spec.Provider{Name: "zen", Settings: map[string]*spec.ConnectionSetting{
		"subdomain": {Description: "Your subdomain, the acme in acme.zen.example", Format: spec.SettingDNSLabel}}}
	providers := []*oauth.ProviderConfig{
		zen,
		codeProvider("web", confidentialID, confidentialSecret, oauth.ClientSecretBasic),
		codeProvider("public", publicID, "", oauth.ClientSecretPost),
		codeProvider("badsecret", confidentialID, "not-the-secret", oauth.ClientSecretBasic),
		// The OP silently drops scopes it does not know: a provider that
		// needs one shows the missing-scopes path.
		codeProvider("strict", confidentialID, confidentialSecret, oauth.ClientSecretBasic,
			oauth.Scope{Name: "tickets.write", Description: "Create and update incidents"}),
		{
			Name: "service", AuthKind: oauth.ClientCredentials, TokenURL: b.op.URL + "/oauth/token",
			ClientID: serviceID, ClientSecret: serviceSecret, Scopes: []oauth.Scope{{Name: "custom_scope", Description: "Read and update tickets"}},
		},
		{
			Name: "apikey", AuthKind: oauth.APIKey, APIKeyHeader: "X-Api-Key", TestURL: b.resource.URL + "/me",
		},
	}

	b.newManager = func(t *testing.T, vault *credential.Vault, reg prometheus.Registerer) *oauth.Manager {
		m, err := oauth.NewManager(b.st, vault, providers, &oauth.Config{
			Outbound:   &connector.Config{AllowLoopback: true},
			BaseURL:    b.accord.URL,
			SessionKey: []byte("0123456789abcdef0123456789abcdef-test-session-key"),
			Logger:     slog.New(slog.NewJSONHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			Registerer: reg,
			Now:        func() time.Time { return time.Now().Add(time.Duration(b.offset.Load())) },
			OnStateChange: func(_ context.Context, c store.Connection) {
				select {
				case b.changes <- c:
				default: // a test that does not read them
				}
			},
			OnOperatorAlert: func(_ context.Context, a oauth.OperatorAlert) { b.alerts <- a },
		})
		require.NoError(t, err)
		return m
	}
	b.m = b.newManager(t, b.vault, b.reg)
	b.kms = kms
	accordHandler = b.m.Handler()

	b.secrets.Store(confidentialSecret, true)
	b.secrets.Store(serviceSecret, true)
	t.Cleanup(func() { b.assertNoSecretsLeaked(t) })
	return b
}

// assertNoSecretsLeaked scans the logs and metrics of the whole test for
// every token and client secret seen.
func (b *bundle) assertNoSecretsLeaked(t *testing.T) {
	var metrics strings.Builder
	mfs, err := b.reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		metrics.WriteString(mf.String())
	}
	logs := b.logs.String()
	b.secrets.Range(func(k, _ any) bool {
		s := k.(string)
		if s == "" {
			return true
		}
		require.NotContains(t, logs, s, "a secret reached the logs")
		require.NotContains(t, metrics.String(), s, "a secret reached the metrics")
		return true
	})
}

func (b *bundle) remember(s credential.Secret) {
	for _, v := range []string{s.AccessToken, s.RefreshToken, s.APIKey, s.Password} {
		if v != "" {
			b.secrets.Store(v, true)
		}
	}
}

// browser follows redirects like a user agent; with stopAtCallback it
// stops before Accord's callback and returns that redirect.
func (b *bundle) browser(t *testing.T, stopAtCallback bool) *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if stopAtCallback && strings.HasPrefix(req.URL.String(), b.accord.URL+"/connect/callback") {
			return http.ErrUseLastResponse
		}
		if len(via) > 10 {
			return errors.New("too many redirects")
		}
		return nil
	}}
}

func get(t *testing.T, c *http.Client, url string) (int, string, *http.Response) {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body), resp
}

// connect runs the whole browser flow for provider and returns the page
// and the tenant's connection for it.
func (b *bundle) connect(t *testing.T, provider string) (int, string, store.Connection) {
	t.Helper()
	token := b.newSession(t, provider, "https://app.example.com/settings", 5*time.Minute)
	status, body, _ := get(t, b.browser(t, false), b.m.ConnectURL(token))
	conns, err := b.st.ListConnections(context.Background(), tenantID)
	require.NoError(t, err)
	for _, c := range conns {
		if c.Provider == provider {
			return status, body, c
		}
	}
	return status, body, store.Connection{}
}

func (b *bundle) secret(t *testing.T, c store.Connection) credential.Secret {
	t.Helper()
	c, err := b.st.GetConnection(context.Background(), c.TenantID, c.ID)
	require.NoError(t, err)
	s, err := b.vault.OpenSecret(context.Background(), c.TenantID, c.Secret)
	require.NoError(t, err)
	b.remember(s)
	return s
}

func refreshCount(t *testing.T, b *bundle, outcome string) float64 {
	t.Helper()
	mfs, err := b.reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "accord_token_refresh_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// newSession stores and signs a connect link for the test tenant.
func (b *bundle) newSession(t *testing.T, provider, returnURL string, ttl time.Duration) string {
	t.Helper()
	token, err := b.m.NewConnectSession(context.Background(), tenantID, provider, returnURL, ttl)
	require.NoError(t, err)
	return token
}
