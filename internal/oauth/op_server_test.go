package oauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
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
	// reuseDetected counts refresh grants that presented a rotated-out
	// refresh token; each revoked the token family (as Okta, Auth0 and Ory
	// do).
	reuseDetected atomic.Int64
	// failToken, when set, answers the token endpoint instead of the OP:
	// an operator-side failure (invalid_client, a 5xx).
	failToken atomic.Pointer[tokenFailure]

	mu       sync.Mutex
	username string
	// family maps every refresh token issued by a refresh grant to the
	// first token of its chain; current maps a chain to its live token;
	// rotated holds the tokens a refresh replaced.
	family  map[string]string
	current map[string]string
	rotated map[string]bool
}

type tokenFailure struct {
	status int
	body   string
}

// signInAs switches the account the login page signs in ("id1"'s
// test-user@host by default, or "test-user2").
func (o *testOP) signInAs(username string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.username = username
}

func (o *testOP) user() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.username
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
	o := &testOP{family: map[string]string{}, current: map[string]string{}, rotated: map[string]bool{}}
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
		if err := o.storage.CheckUsernamePassword(o.user(), "verysecure", id); err != nil {
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
		o.tokenCalls.Add(1)
		if f := o.failToken.Load(); f != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(f.status)
			_, _ = w.Write([]byte(f.body))
			return
		}
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" {
			mux.ServeHTTP(w, r)
			return
		}
		o.refreshGrants.Add(1)
		presented := r.PostForm.Get("refresh_token")
		if o.detectReuse(presented) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"refresh token reused: token family revoked"}`))
			return
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		if rec.Code == http.StatusOK {
			var body struct {
				RefreshToken string `json:"refresh_token"`
			}
			if json.Unmarshal(rec.Body.Bytes(), &body) == nil && body.RefreshToken != "" {
				o.rotate(presented, body.RefreshToken)
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
	return o
}

// rotate records that refreshing old issued next.
func (o *testOP) rotate(old, next string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fam := o.family[old]
	if fam == "" {
		fam = old
	}
	o.family[next] = fam
	o.current[fam] = next
	o.rotated[old] = true
}

// detectReuse revokes the whole family of a rotated-out refresh token
// presented again: the live token stops working too.
func (o *testOP) detectReuse(presented string) bool {
	o.mu.Lock()
	if !o.rotated[presented] {
		o.mu.Unlock()
		return false
	}
	fam := o.family[presented]
	if fam == "" {
		fam = presented
	}
	live := o.current[fam]
	o.mu.Unlock()
	o.reuseDetected.Add(1)
	for _, client := range []string{confidentialID, publicID} {
		_ = o.storage.RevokeToken(context.Background(), live, "", client)
	}
	return true
}

// failTokenEndpoint makes the token endpoint answer status and body until
// restored with failTokenEndpoint(0, "").
func (o *testOP) failTokenEndpoint(status int, body string) {
	if status == 0 {
		o.failToken.Store(nil)
		return
	}
	o.failToken.Store(&tokenFailure{status: status, body: body})
}

// revokeGrant revokes a refresh token at the provider, as an admin
// removing Accord's access in the partner's settings would.
func (o *testOP) revokeGrant(t *testing.T, refreshToken string) {
	t.Helper()
	require.Nil(t, o.storage.RevokeToken(context.Background(), refreshToken, "", confidentialID))
}
