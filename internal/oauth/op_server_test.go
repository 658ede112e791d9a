package oauth_test

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// testOP is a real OAuth 2.0 / OpenID provider (zitadel's op package with
// its example in-memory storage) served on loopback. Only the login page is
// ours: it signs the test user in without a form.
type testOP struct {
	URL     string
	storage *storage.Storage
	// refreshGrants counts token-endpoint calls with grant_type=refresh_token.
	refreshGrants atomic.Int64
	tokenCalls    atomic.Int64
	username      string
}

const (
	confidentialID     = "accord-web"
	confidentialSecret = "web-client-secret-value"
	publicID           = "accord-public"
	serviceID          = "sid1"       // the example storage's client credentials user
	serviceSecret      = "verysecret" // its secret
)

func newTestOP(t *testing.T, redirectURI string) *testOP {
	t.Helper()
	o := &testOP{}
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	o.URL = srv.URL

	clients := map[string]*storage.Client{
		confidentialID: storage.WebClient(confidentialID, confidentialSecret, redirectURI),
		publicID:       storage.NativeClient(publicID, redirectURI),
	}
	users := storage.NewUserStore(srv.URL)
	o.storage = storage.NewStorageWithClients(users, clients)
	o.username = "test-user@127.0.0.1"

	provider, err := op.NewProvider(&op.Config{
		CryptoKey:             sha256.Sum256([]byte("test op crypto key")),
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
	}, o.storage, op.StaticIssuer(srv.URL), op.WithAllowInsecure())
	require.NoError(t, err)

	mux := http.NewServeMux()
	// The OP sends the browser to the client's login URL with the auth
	// request id; sign the test user in and hand back to the OP.
	mux.HandleFunc("/login/username", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("authRequestID")
		if err := o.storage.CheckUsernamePassword(o.username, "verysecure", id); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, srv.URL+"/authorize/callback?id="+id, http.StatusFound)
	})
	mux.Handle("/", provider)
	handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" {
			o.tokenCalls.Add(1)
			if err := r.ParseForm(); err == nil && r.PostForm.Get("grant_type") == "refresh_token" {
				o.refreshGrants.Add(1)
			}
		}
		mux.ServeHTTP(w, r)
	})
	return o
}

// revokeGrant revokes a refresh token at the provider, as an admin
// removing Accord's access in the partner's settings would.
func (o *testOP) revokeGrant(t *testing.T, refreshToken string) {
	t.Helper()
	require.Nil(t, o.storage.RevokeToken(context.Background(), refreshToken, "", confidentialID))
}
