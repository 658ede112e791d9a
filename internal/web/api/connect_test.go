package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/oauth"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/sqlite"
	"github.com/accordhq/accord/internal/web/api"
)

const (
	ctTenant       = "tenant-1"
	ctOpToken      = "operator-token-value"
	ctAccessToken  = "svc-access-token-value"
	ctGoodKey      = "good-api-key-value"
	ctPublicURL    = "https://accord.example.com"
	ctClientSecret = "svc-client-secret-value"
	// ctRevokedRefresh is a refresh token the partner's token endpoint
	// answers invalid_grant for.
	ctRevokedRefresh = "revoked-refresh-token-value"
)

type connectBundle struct {
	st      store.Store
	vault   *credential.Vault
	m       *oauth.Manager
	srv     *httptest.Server
	partner *httptest.Server

	mu      sync.Mutex
	revoked []string
}

// setupConnect serves the admin API with the connect routes over SQLite,
// and a partner with a token endpoint (client credentials), a revocation
// endpoint and a "who am I" test endpoint.
func setupConnect(t *testing.T, opts ...func(*oauth.Config)) *connectBundle {
	t.Helper()
	ctx := context.Background()
	b := &connectBundle{st: sqlite.OpenTest(t)}
	require.NoError(t, b.st.CreateTenant(ctx, store.Tenant{ID: ctTenant, Name: "Tenant One"}))

	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("refresh_token") == ctRevokedRefresh {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"grant revoked"}`))
			return
		}
		if _, secret, _ := r.BasicAuth(); secret != ctClientSecret {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"` + ctAccessToken + `","token_type":"Bearer","expires_in":3600,"scope":"svc.read"}`))
	})
	mux.HandleFunc("POST /revoke", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.revoked = append(b.revoked, r.FormValue("token"))
		b.mu.Unlock()
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer "+ctAccessToken || r.Header.Get("X-Api-Key") == ctGoodKey {
			_, _ = w.Write([]byte(`{"id":"me"}`))
			return
		}
		http.Error(w, `{"error":"bad credentials"}`, http.StatusUnauthorized)
	})
	b.partner = httptest.NewServer(mux)
	t.Cleanup(b.partner.Close)

	mk, err := credential.GenerateMasterKey()
	require.NoError(t, err)
	key, err := credential.ParseMasterKey(mk)
	require.NoError(t, err)
	kms, err := credential.NewLocalKMS(key)
	require.NoError(t, err)
	vault, err := credential.NewVault(b.st, kms, nil)
	require.NoError(t, err)
	b.vault = vault

	p := b.partner.URL
	providers := []*oauth.ProviderConfig{
		{
			Name: "crm", DisplayName: "Acme CRM", AuthKind: oauth.AuthCode, AuthURL: p + "/authorize", TokenURL: p + "/token",
			ClientID: "crm-client", ClientSecret: ctClientSecret, TestURL: p + "/me",
			Scopes: []oauth.Scope{{Name: "crm.read", Description: "Read contacts"}},
		},
		{
			Name: "svc", AuthKind: oauth.ClientCredentials, TokenURL: p + "/token", RevokeURL: p + "/revoke",
			ClientID: "svc-client", ClientSecret: ctClientSecret, TestURL: p + "/me",
			Scopes: []oauth.Scope{{Name: "svc.read", Description: "Read service data"}},
		},
		{Name: "keyed", AuthKind: oauth.APIKey, APIKeyHeader: "X-Api-Key", TestURL: p + "/me"},
		{Name: "untestable", AuthKind: oauth.APIKey},
	}
	cfg := &oauth.Config{
		Outbound:   &connector.Config{AllowLoopback: true},
		BaseURL:    ctPublicURL,
		SessionKey: []byte("0123456789abcdef0123456789abcdef-api-test"),
	}
	for _, o := range opts {
		o(cfg)
	}
	b.m, err = oauth.NewManager(b.st, vault, providers, cfg)
	require.NoError(t, err)

	a := api.New(api.Deps{Store: b.st, Vault: vault, Token: ctOpToken, Extra: api.ConnectRoutes(b.m)})
	root := http.NewServeMux()
	for pattern, h := range a.Routes() {
		root.Handle(pattern, h)
	}
	b.srv = httptest.NewServer(root)
	t.Cleanup(b.srv.Close)
	return b
}

func (b *connectBundle) post(t *testing.T, path, body string) (int, map[string]any, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.srv.URL+path, bytes.NewBufferString(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+ctOpToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	return resp.StatusCode, out, string(raw)
}

// start follows a session URL into Accord's connect handler and returns
// where it sends the browser.
func (b *connectBundle) start(t *testing.T, sessionURL string) (int, string) {
	t.Helper()
	path := strings.TrimPrefix(sessionURL, ctPublicURL)
	rec := httptest.NewRecorder()
	b.m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Header().Get("Location")
}

func TestCreateConnectSession(t *testing.T) {
	t.Parallel()
	b := setupConnect(t)

	before := time.Now()
	status, out, raw := b.post(t, "/api/v1/tenants/"+ctTenant+"/connect-sessions",
		`{"provider":"crm","return_url":"https://app.example.com/settings","ttl":"30m"}`)
	require.Equal(t, http.StatusCreated, status, raw)
	require.NotEmpty(t, out["token"])
	url := out["url"].(string)
	require.True(t, strings.HasPrefix(url, ctPublicURL+"/connect/start?session="), url)
	exp, err := time.Parse(time.RFC3339, out["expires_at"].(string))
	require.NoError(t, err)
	require.WithinRange(t, exp, before.Add(29*time.Minute), before.Add(31*time.Minute))

	// The session is good for the connect flow: it leads to the provider.
	code, loc := b.start(t, url)
	require.Equal(t, http.StatusFound, code)
	require.True(t, strings.HasPrefix(loc, b.partner.URL+"/authorize?"), loc)

	// The default lifetime.
	status, out, raw = b.post(t, "/api/v1/tenants/"+ctTenant+"/connect-sessions", `{"provider":"crm"}`)
	require.Equal(t, http.StatusCreated, status, raw)
	exp, err = time.Parse(time.RFC3339, out["expires_at"].(string))
	require.NoError(t, err)
	require.WithinRange(t, exp, before.Add(14*time.Minute), before.Add(16*time.Minute))
}

func TestCreateConnectSessionRejects(t *testing.T) {
	t.Parallel()
	b := setupConnect(t)
	tests := []struct {
		name, tenant, body string
		status             int
		detail             string
	}{
		{"unknown provider", ctTenant, `{"provider":"nope"}`, http.StatusBadRequest, "unknown provider"},
		{"no provider", ctTenant, `{}`, http.StatusBadRequest, "provider is required"},
		{"provider without browser flow", ctTenant, `{"provider":"svc"}`, http.StatusBadRequest, "POST /api/v1/tenants/{tenant}/connections"},
		{"bad ttl", ctTenant, `{"provider":"crm","ttl":"soon"}`, http.StatusBadRequest, "ttl"},
		{"ttl too long", ctTenant, `{"provider":"crm","ttl":"48h"}`, http.StatusBadRequest, "at most 24h"},
		{"return url not http", ctTenant, `{"provider":"crm","return_url":"javascript:alert(1)"}`, http.StatusBadRequest, "return_url"},
		{"unknown field", ctTenant, `{"provider":"crm","scopes":["x"]}`, http.StatusBadRequest, "unknown field"},
		{"unknown tenant", "nobody", `{"provider":"crm"}`, http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, out, raw := b.post(t, "/api/v1/tenants/"+tt.tenant+"/connect-sessions", tt.body)
			require.Equal(t, tt.status, status, raw)
			if tt.detail != "" {
				require.Contains(t, out["detail"], tt.detail)
			}
		})
	}

	// Without the operator token nothing is created.
	resp, err := http.Post(b.srv.URL+"/api/v1/tenants/"+ctTenant+"/connect-sessions", "application/json", strings.NewReader(`{"provider":"crm"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestReconnectSession(t *testing.T) {
	t.Parallel()
	b := setupConnect(t)
	ctx := context.Background()
	now := time.Now()
	c := store.Connection{TenantID: ctTenant, ID: "conn_crm", Provider: "crm", State: store.ConnectionNeedsReconnect,
		StateReason: "Access was revoked.", CreatedAt: now, UpdatedAt: now}
	require.NoError(t, b.st.CreateConnection(ctx, c))

	status, out, raw := b.post(t, "/api/v1/tenants/"+ctTenant+"/connections/conn_crm/reconnect", `{"return_url":"https://app.example.com/x"}`)
	require.Equal(t, http.StatusCreated, status, raw)
	code, loc := b.start(t, out["url"].(string))
	require.Equal(t, http.StatusFound, code)
	require.True(t, strings.HasPrefix(loc, b.partner.URL+"/authorize?"), loc)

	// No body at all is fine too.
	status, _, raw = b.post(t, "/api/v1/tenants/"+ctTenant+"/connections/conn_crm/reconnect", "")
	require.Equal(t, http.StatusCreated, status, raw)

	status, _, _ = b.post(t, "/api/v1/tenants/"+ctTenant+"/connections/conn_missing/reconnect", "")
	require.Equal(t, http.StatusNotFound, status)
	status, _, _ = b.post(t, "/api/v1/tenants/other/connections/conn_crm/reconnect", "")
	require.Equal(t, http.StatusNotFound, status, "another ctTenant's connection does not exist here")
}

func TestTestAndDisconnect(t *testing.T) {
	t.Parallel()
	b := setupConnect(t)
	ctx := context.Background()
	svc, err := b.m.Connect(ctx, ctTenant, "svc", credential.Secret{})
	require.NoError(t, err)
	keyed, err := b.m.Connect(ctx, ctTenant, "keyed", credential.Secret{APIKey: "wrong-api-key-value"})
	require.NoError(t, err)
	untestable, err := b.m.Connect(ctx, ctTenant, "untestable", credential.Secret{APIKey: ctGoodKey})
	require.NoError(t, err)

	status, out, raw := b.post(t, "/api/v1/tenants/"+ctTenant+"/connections/"+svc.ID+"/test", "")
	require.Equal(t, http.StatusOK, status, raw)
	require.Equal(t, true, out["ok"])

	status, out, raw = b.post(t, "/api/v1/tenants/"+ctTenant+"/connections/"+keyed.ID+"/test", "")
	require.Equal(t, http.StatusBadGateway, status, raw)
	require.Equal(t, false, out["ok"])
	require.Contains(t, out["error"], "answered 401")
	require.Contains(t, out["error"], "bad credentials", "the partner's own message")
	require.Equal(t, false, out["policy"])
	require.NotContains(t, raw, "wrong-api-key-value")

	status, _, raw = b.post(t, "/api/v1/tenants/"+ctTenant+"/connections/"+untestable.ID+"/test", "")
	require.Equal(t, http.StatusBadRequest, status, raw)
	require.Contains(t, raw, "names no test call")

	// Disconnect revokes at the provider and answers without secrets.
	status, out, raw = b.post(t, "/api/v1/tenants/"+ctTenant+"/connections/"+svc.ID+"/disconnect", "")
	require.Equal(t, http.StatusOK, status, raw)
	require.Equal(t, true, out["revoked_at_provider"])
	conn := out["connection"].(map[string]any)
	require.Equal(t, svc.ID, conn["id"])
	require.Equal(t, "disconnected", conn["state"])
	require.Equal(t, []any{map[string]any{"name": "svc.read", "description": "Read service data"}}, conn["granted_scopes"])
	require.NotContains(t, raw, ctAccessToken)
	require.NotContains(t, raw, ctClientSecret)
	b.mu.Lock()
	require.Equal(t, []string{ctAccessToken}, b.revoked)
	b.mu.Unlock()
	stored, err := b.st.GetConnection(ctx, ctTenant, svc.ID)
	require.NoError(t, err)
	require.Equal(t, store.ConnectionDisconnected, stored.State)
	require.Empty(t, stored.Secret)

	// A disconnected connection fails its test with the reason, and a
	// second disconnect is harmless.
	status, out, raw = b.post(t, "/api/v1/tenants/"+ctTenant+"/connections/"+svc.ID+"/test", "")
	require.Equal(t, http.StatusBadGateway, status, raw)
	require.Contains(t, out["error"], "Disconnected")
	status, _, raw = b.post(t, "/api/v1/tenants/"+ctTenant+"/connections/"+svc.ID+"/disconnect", "")
	require.Equal(t, http.StatusOK, status, raw)

	status, _, _ = b.post(t, "/api/v1/tenants/"+ctTenant+"/connections/conn_missing/disconnect", "")
	require.Equal(t, http.StatusNotFound, status)
	status, _, _ = b.post(t, "/api/v1/tenants/"+ctTenant+"/connections/conn_missing/test", "")
	require.Equal(t, http.StatusNotFound, status)
}

func TestConnectRoutesDocumented(t *testing.T) {
	t.Parallel()
	b := setupConnect(t)
	resp, err := http.Get(b.srv.URL + "/api/v1/openapi.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
	for pattern := range api.ConnectRoutes(b.m) {
		method, path, _ := strings.Cut(pattern, " ")
		require.Contains(t, doc.Paths, path)
		require.Contains(t, doc.Paths[path], strings.ToLower(method), pattern)
	}
}

// TestTestAppliesTheWritePolicy: a partner the engine may not write to is
// not "ok" to test either, and the answer says which setting to change.
func TestTestAppliesTheWritePolicy(t *testing.T) {
	t.Parallel()
	b := setupConnect(t, func(c *oauth.Config) { c.Outbound = nil })
	keyed, err := b.m.Connect(context.Background(), ctTenant, "keyed", credential.Secret{APIKey: ctGoodKey})
	require.NoError(t, err)

	status, out, raw := b.post(t, "/api/v1/tenants/"+ctTenant+"/connections/"+keyed.ID+"/test", "")
	require.Equal(t, http.StatusBadGateway, status, raw)
	require.Equal(t, false, out["ok"])
	require.Equal(t, true, out["policy"])
	require.Contains(t, out["error"], "allow_loopback_partners")
	require.NotContains(t, out["error"], "could not be reached")
	require.NotContains(t, raw, ctGoodKey)
}
