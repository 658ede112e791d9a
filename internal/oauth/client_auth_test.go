package oauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/oauth"
	"github.com/accordhq/accord/internal/spec"
)

// postOnlyProvider is a token and revocation endpoint that accepts the
// client's credentials in the form body only (client_secret_post) and
// refuses basic auth, as some providers do.
type postOnlyProvider struct {
	srv *httptest.Server

	mu      sync.Mutex
	basic   int
	revoked []string
}

func newPostOnlyProvider(t *testing.T) *postOnlyProvider {
	t.Helper()
	p := &postOnlyProvider{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if _, _, ok := r.BasicAuth(); ok || r.PostForm.Get("client_secret") != "post-secret" {
			p.mu.Lock()
			p.basic++
			p.mu.Unlock()
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": "send client_secret in the body"})
			return
		}
		if r.URL.Path == "/revoke" {
			p.mu.Lock()
			p.revoked = append(p.revoked, r.PostForm.Get("token"))
			p.mu.Unlock()
			return
		}
		_ = json.NewEncoder(w).Encode(goodToken)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func TestClientSecretPost(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	op := newPostOnlyProvider(t)
	m := managerWith(t, b, loopbackAllowed, &oauth.ProviderConfig{
		Name: "post", AuthKind: oauth.ClientCredentials, ClientID: "id", ClientSecret: "post-secret",
		ClientAuth: oauth.ClientSecretPost, TokenURL: op.srv.URL + "/token", RevokeURL: op.srv.URL + "/revoke",
	})
	c, err := m.Connect(ctx, tenantID, "post", credential.Secret{})
	require.NoError(t, err)
	revoked, err := m.Disconnect(ctx, tenantID, c.ID, "test")
	require.NoError(t, err)
	require.True(t, revoked)
	require.Zero(t, op.basic, "the secret never went in a header")
}

// TestManifestProvidersDetectClientSecretPost: the manifest has no key for
// the token endpoint's client authentication, so a provider mapped from it
// tries basic first and falls back to the form body once, remembering it.
func TestManifestProvidersDetectClientSecretPost(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	op := newPostOnlyProvider(t)
	env := map[string]string{"SVC_ID": "id", "SVC_SECRET": "post-secret"}
	pc, err := oauth.ConfigFromManifest(&spec.Provider{
		Name: "svc", BaseURL: op.srv.URL,
		Auth: spec.Auth{Kind: spec.AuthOAuth2ClientCredentials, TokenURL: op.srv.URL + "/token", RevokeURL: op.srv.URL + "/revoke",
			ClientIDEnv: "SVC_ID", ClientSecretEnv: "SVC_SECRET"},
	}, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	require.Equal(t, oauth.ClientSecretAuto, pc.ClientAuth)

	m := managerWith(t, b, loopbackAllowed, pc)
	c, err := m.Connect(ctx, tenantID, "svc", credential.Secret{})
	require.NoError(t, err)
	_, err = m.Connect(ctx, tenantID, "svc", credential.Secret{})
	require.NoError(t, err)
	revoked, err := m.Disconnect(ctx, tenantID, c.ID, "test")
	require.NoError(t, err)
	require.True(t, revoked)
	op.mu.Lock()
	defer op.mu.Unlock()
	require.Equal(t, []string{"access-" + partnerSecret}, op.revoked)
	require.LessOrEqual(t, op.basic, 2, "basic tried once for the token URL (then remembered) and once for revocation")
}
