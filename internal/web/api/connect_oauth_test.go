package api_test

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/oauth"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/sqlite"
	"github.com/accordhq/accord/internal/web/api"
)

// The zitadel example storage's client credentials client.
const (
	opServiceID     = "sid1"
	opServiceSecret = "verysecret"
)

// newClientCredentialsOP serves a real OAuth 2.0 provider (zitadel's op
// package with its example in-memory storage) on loopback. Only the client
// credentials grant is used here, so it needs no login page.
func newClientCredentialsOP(t *testing.T) string {
	t.Helper()
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	st := storage.NewStorageWithClients(storage.NewUserStore(srv.URL), map[string]*storage.Client{})
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:      sha256.Sum256([]byte("api test op crypto key")),
		CodeMethodS256: true,
		AuthMethodPost: true,
	}, st, op.StaticIssuer(srv.URL), op.WithAllowInsecure())
	require.NoError(t, err)
	handler = provider
	return srv.URL
}

type oauthConnectBundle struct {
	st  store.Store
	srv *httptest.Server
	m   *oauth.Manager
}

// setupOAuthConnect builds providers from manifests whose OAuth client is
// read from environment variables, the way the app loads packs.
func setupOAuthConnect(t *testing.T) *oauthConnectBundle {
	t.Helper()
	ctx := context.Background()
	b := &oauthConnectBundle{st: sqlite.OpenTest(t)}
	require.NoError(t, b.st.CreateTenant(ctx, store.Tenant{ID: ctTenant, Name: "Tenant One"}))
	opURL := newClientCredentialsOP(t)
	env := map[string]string{
		"SVC_CLIENT_ID": opServiceID, "SVC_CLIENT_SECRET": opServiceSecret,
		"BAD_CLIENT_SECRET": "not-the-service-secret",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	manifest := func(name, kind, secretEnv string) *spec.Provider {
		return &spec.Provider{Name: name, Title: "Partner " + name, BaseURL: opURL,
			Auth: spec.Auth{Kind: kind, TokenURL: opURL + "/oauth/token", AuthorizeURL: opURL + "/authorize",
				ClientIDEnv: "SVC_CLIENT_ID", ClientSecretEnv: secretEnv},
			Scopes: []spec.Scope{{Name: "custom_scope", Description: "Read and update tickets"}}}
	}
	var providers []*oauth.ProviderConfig
	service := manifest("service", spec.AuthOAuth2ClientCredentials, "SVC_CLIENT_SECRET")
	service.Settings = map[string]*spec.ConnectionSetting{
		"subdomain": {Description: "Your subdomain", Format: "dns_label", Optional: true}}
	for _, p := range []*spec.Provider{
		service,
		manifest("badservice", spec.AuthOAuth2ClientCredentials, "BAD_CLIENT_SECRET"),
		manifest("web", spec.AuthOAuth2Code, "SVC_CLIENT_SECRET"),
		{Name: "keyed", BaseURL: opURL, Auth: spec.Auth{Kind: spec.AuthAPIKey, Header: "X-Api-Key"}},
	} {
		pc, err := oauth.ConfigFromManifest(p, lookup)
		require.NoError(t, err)
		providers = append(providers, pc)
	}

	mk, err := credential.GenerateMasterKey()
	require.NoError(t, err)
	key, err := credential.ParseMasterKey(mk)
	require.NoError(t, err)
	kms, err := credential.NewLocalKMS(key)
	require.NoError(t, err)
	vault, err := credential.NewVault(b.st, kms, nil)
	require.NoError(t, err)
	b.m, err = oauth.NewManager(b.st, vault, providers, &oauth.Config{
		Outbound: &connector.Config{AllowLoopback: true},
		BaseURL:  ctPublicURL, SessionKey: []byte("0123456789abcdef0123456789abcdef-api-test")})
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

func (b *oauthConnectBundle) post(t *testing.T, path, body string) (int, map[string]any, string) {
	t.Helper()
	return (&connectBundle{srv: b.srv}).post(t, path, body)
}

func TestConnectOAuthClientCredentials(t *testing.T) {
	t.Parallel()
	b := setupOAuthConnect(t)
	ctx := context.Background()
	path := "/api/v1/tenants/" + ctTenant + "/connections/oauth"

	status, out, raw := b.post(t, path, `{"provider":"service","scopes":["custom_scope"]}`)
	require.Equal(t, http.StatusCreated, status, raw)
	require.Equal(t, "service", out["provider"])
	require.Equal(t, "active", out["state"])
	require.Equal(t, []any{map[string]any{"name": "custom_scope", "description": "Read and update tickets"}}, out["granted_scopes"])
	require.NotContains(t, out, "missing_scopes")
	id := out["id"].(string)
	require.Equal(t, "/hooks/"+id, out["hook_path"])

	// The provider issued a token, which is stored sealed and never
	// answered.
	tok, err := b.m.TokenSource(ctTenant, id).Token(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, tok.AccessToken)
	require.NotContains(t, raw, tok.AccessToken)
	require.NotContains(t, raw, opServiceSecret)
	stored, err := b.st.GetConnection(ctx, ctTenant, id)
	require.NoError(t, err)
	require.NotContains(t, string(stored.Secret), tok.AccessToken)

	// The connection is listed like any other.
	req, err := http.NewRequest(http.MethodGet, b.srv.URL+"/api/v1/tenants/"+ctTenant+"/connections/"+id, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+ctOpToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestConnectOAuthClientCredentialsSettings: a machine-grant connection
// takes the manifest's connection settings like the other kinds; a bad
// value is refused with what to fix, before any token is fetched.
func TestConnectOAuthClientCredentialsSettings(t *testing.T) {
	t.Parallel()
	b := setupOAuthConnect(t)
	path := "/api/v1/tenants/" + ctTenant + "/connections/oauth"

	status, out, raw := b.post(t, path, `{"provider":"service","settings":{"subdomain":"acme"}}`)
	require.Equal(t, http.StatusCreated, status, raw)
	require.Equal(t, map[string]any{"subdomain": "acme"}, out["settings"])
	stored, err := b.st.GetConnection(t.Context(), ctTenant, out["id"].(string))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"subdomain": "acme"}, stored.Settings)

	status, _, raw = b.post(t, path, `{"provider":"service","settings":{"subdomain":"acme.evil.example"}}`)
	require.Equal(t, http.StatusUnprocessableEntity, status, raw)
	require.Contains(t, raw, "subdomain")
	status, _, raw = b.post(t, path, `{"provider":"service","settings":{"region":"eu"}}`)
	require.Equal(t, http.StatusUnprocessableEntity, status, raw)
	require.Contains(t, raw, "region")
	conns, err := b.st.ListConnections(t.Context(), ctTenant)
	require.NoError(t, err)
	require.Len(t, conns, 1, "a refused request stores nothing")
}

func TestConnectOAuthRejects(t *testing.T) {
	t.Parallel()
	b := setupOAuthConnect(t)
	path := "/api/v1/tenants/" + ctTenant + "/connections/oauth"
	tests := []struct {
		name, path, body string
		status           int
		detail           string
	}{
		{"wrong client secret", path, `{"provider":"badservice"}`, http.StatusBadGateway, "invalid_client"},
		{"client secret in the body", path, `{"provider":"service","client_secret":"x"}`, http.StatusBadRequest, "unknown field"},
		{"browser provider", path, `{"provider":"web"}`, http.StatusBadRequest, "connect-sessions"},
		{"api key provider", path, `{"provider":"keyed"}`, http.StatusBadRequest, "POST /api/v1/tenants/{tenant}/connections"},
		{"unknown provider", path, `{"provider":"nope"}`, http.StatusBadRequest, "unknown provider"},
		{"no provider", path, `{}`, http.StatusBadRequest, "provider is required"},
		{"unknown scope", path, `{"provider":"service","scopes":["admin"]}`, http.StatusBadRequest, `scope "admin"`},
		{"unknown tenant", "/api/v1/tenants/nobody/connections/oauth", `{"provider":"service"}`, http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, out, raw := b.post(t, tt.path, tt.body)
			require.Equal(t, tt.status, status, raw)
			if tt.detail != "" {
				require.Contains(t, out["detail"], tt.detail)
			}
			require.NotContains(t, raw, "not-the-service-secret")
			require.NotContains(t, raw, opServiceSecret)
		})
	}
	conns, err := b.st.ListConnections(context.Background(), ctTenant)
	require.NoError(t, err)
	require.Empty(t, conns, "a refused connect stores nothing")

	resp, err := http.Post(b.srv.URL+path, "application/json", strings.NewReader(`{"provider":"service"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}
