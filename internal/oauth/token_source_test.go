package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/oauth"
	"github.com/accordhq/accord/internal/store"
)

func TestRefreshRotatesTokens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, _, c := b.connect(t, "web")
	ts := b.m.TokenSource(tenantID, c.ID)
	first := b.secret(t, c)

	// Fresh token: nothing to refresh.
	got, err := ts.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, first.AccessToken, got.AccessToken)
	require.Zero(t, b.op.refreshGrants.Load())

	second, err := ts.ForceRefresh(ctx, first.AccessToken)
	require.NoError(t, err)
	b.remember(second)
	require.NotEqual(t, first.AccessToken, second.AccessToken)
	require.NotEqual(t, first.RefreshToken, second.RefreshToken, "the provider rotates refresh tokens")
	stored := b.secret(t, c)
	require.Equal(t, second.AccessToken, stored.AccessToken, "new tokens are stored")
	require.Equal(t, second.RefreshToken, stored.RefreshToken)
	require.True(t, second.Expiry.Equal(stored.Expiry))
	require.EqualValues(t, 1, b.op.refreshGrants.Load())

	// A late 401 for the old token does not refresh again.
	grants := b.op.refreshGrants.Load()
	again, err := ts.ForceRefresh(ctx, first.AccessToken)
	require.NoError(t, err)
	require.Equal(t, second.AccessToken, again.AccessToken)
	require.Equal(t, grants, b.op.refreshGrants.Load())
	require.EqualValues(t, 1, refreshCount(t, b, "reused"))

	// Close to expiry (the OP's tokens live 5 minutes), Token refreshes
	// ahead of time.
	b.offset.Store(int64(4*time.Minute + 30*time.Second))
	third, err := ts.Token(ctx)
	require.NoError(t, err)
	b.remember(third)
	require.NotEqual(t, second.AccessToken, third.AccessToken)
	require.EqualValues(t, 2, refreshCount(t, b, "refreshed"))
	require.NoError(t, b.m.TestConnection(ctx, tenantID, c.ID))
	require.Zero(t, b.op.reuseDetected.Load(), "Accord never presented a rotated-out refresh token")

	// The rotated-out refresh token is dead at the provider, and presenting
	// it revokes the whole family (the provider's reuse detection): this is
	// why two refreshes from one token must never happen.
	cfg := oauth2.Config{ClientID: confidentialID, ClientSecret: confidentialSecret,
		Endpoint: oauth2.Endpoint{TokenURL: b.op.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: first.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	require.Equal(t, "invalid_grant", re.ErrorCode)
	require.EqualValues(t, 1, b.op.reuseDetected.Load())
	_, err = ts.ForceRefresh(ctx, b.secret(t, c).AccessToken)
	require.ErrorIs(t, err, oauth.ErrNeedsReconnect, "the family is revoked: the live token is dead too")
}

func TestConcurrent401sRefreshOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, _, c := b.connect(t, "web")
	stale := b.secret(t, c)

	const n = 20
	var wg sync.WaitGroup
	results := make([]credential.Secret, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// Every caller got a 401 for the same token and asks for a
			// new one, through its own token source.
			results[i], errs[i] = b.m.TokenSource(tenantID, c.ID).ForceRefresh(ctx, stale.AccessToken)
		}()
	}
	close(start)
	wg.Wait()

	require.EqualValues(t, 1, b.op.refreshGrants.Load(), "exactly one refresh reached the provider")
	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, results[0].AccessToken, results[i].AccessToken)
		require.NotEqual(t, stale.AccessToken, results[i].AccessToken)
	}
	b.remember(results[0])
	require.EqualValues(t, 1, refreshCount(t, b, "refreshed"))
	require.EqualValues(t, n-1, refreshCount(t, b, "reused"))
}

func TestRevokedGrantPausesUntilReconnect(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, _, c := b.connect(t, "web")
	<-b.changes
	sec := b.secret(t, c)
	pt := newPartner(t, b)

	// Work queued for the partner; a write that meets NeedsReconnectError
	// waits (paused), it is neither dropped nor failed.
	var pending []string
	var done []string
	drain := func() {
		for len(pending) > 0 {
			conn, err := b.st.GetConnection(ctx, tenantID, c.ID)
			require.NoError(t, err)
			auth, err := b.m.Authorizer(ctx, conn)
			require.NoError(t, err)
			err = pt.create(ctx, auth)
			if errors.Is(err, oauth.ErrNeedsReconnect) {
				return
			}
			require.NoError(t, err)
			done = append(done, pending[0])
			pending = pending[1:]
		}
	}
	pending = append(pending, "write-1")
	drain()
	require.Equal(t, []string{"write-1"}, done)

	// The admin revokes Accord's access at the provider.
	b.op.revokeGrant(t, sec.RefreshToken)
	pending = append(pending, "write-2", "write-3")
	drain()
	require.Equal(t, []string{"write-2", "write-3"}, pending, "paused, in order, nothing dropped")

	c, err := b.st.GetConnection(ctx, tenantID, c.ID)
	require.NoError(t, err)
	require.Equal(t, store.ConnectionNeedsReconnect, c.State)
	require.Contains(t, c.StateReason, "revoked or has expired")
	changed := <-b.changes
	require.Equal(t, store.ConnectionNeedsReconnect, changed.State)
	require.EqualValues(t, 1, refreshCount(t, b, "needs_reconnect"))
	entries, err := b.st.ListAudit(ctx, tenantID, 0, 100)
	require.NoError(t, err)
	require.Equal(t, "connection.needs_reconnect", entries[len(entries)-1].Action)

	// Further calls do not hammer the provider while paused.
	before := b.op.tokenCalls.Load()
	_, err = b.m.TokenSource(tenantID, c.ID).Token(ctx)
	var nr *oauth.NeedsReconnectError
	require.ErrorAs(t, err, &nr)
	require.Equal(t, c.ID, nr.ConnectionID)
	require.Equal(t, before, b.op.tokenCalls.Load())

	// Reconnect keeps the connection id; the paused work then completes
	// in order.
	token, err := b.m.NewReconnectSession(ctx, tenantID, c.ID, "", 5*time.Minute, false)
	require.NoError(t, err)
	status, body, _ := get(t, b.browser(t, false), b.m.ConnectURL(token))
	require.Equal(t, http.StatusOK, status, body)
	conns, err := b.st.ListConnections(ctx, tenantID)
	require.NoError(t, err)
	require.Len(t, conns, 1)
	require.Equal(t, c.ID, conns[0].ID)
	require.Equal(t, store.ConnectionActive, conns[0].State)
	require.Empty(t, conns[0].StateReason)
	require.Equal(t, store.ConnectionActive, (<-b.changes).State)
	b.secret(t, conns[0])

	drain()
	require.Empty(t, pending)
	require.Equal(t, []string{"write-1", "write-2", "write-3"}, done)
}

func TestConnectorRetriesOnceAfter401(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, _, c := b.connect(t, "web")
	sec := b.secret(t, c)
	pt := newPartner(t, b)

	// The provider drops the access token early (it still honours the
	// refresh token): the partner API answers 401.
	revokeAccessToken(t, b, sec.AccessToken)

	auth, err := b.m.Authorizer(ctx, c)
	require.NoError(t, err)
	require.NoError(t, pt.create(ctx, auth), "retried with a refreshed token")
	require.EqualValues(t, 1, b.op.refreshGrants.Load())
	require.EqualValues(t, 1, pt.accepted.Load())
	b.secret(t, c)
}

// revokeAccessToken revokes only the access token at the provider's RFC
// 7009 endpoint.
func revokeAccessToken(t *testing.T, b *bundle, accessToken string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.op.URL+"/revoke", strings.NewReader(url.Values{
		"token": {accessToken}, "token_type_hint": {"access_token"},
	}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(confidentialID, confidentialSecret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestDisconnectRevokesAtProvider(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, _, c := b.connect(t, "web")
	sec := b.secret(t, c)

	revoked, err := b.m.Disconnect(ctx, tenantID, c.ID, "admin@example.com")
	require.NoError(t, err)
	require.True(t, revoked)

	c, err = b.st.GetConnection(ctx, tenantID, c.ID)
	require.NoError(t, err)
	require.Equal(t, store.ConnectionDisconnected, c.State)
	require.Empty(t, c.Secret, "secret wiped")

	cfg := oauth2.Config{ClientID: confidentialID, ClientSecret: confidentialSecret, Endpoint: oauth2.Endpoint{TokenURL: b.op.URL + "/oauth/token"}}
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: sec.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	require.Equal(t, "invalid_grant", re.ErrorCode, "the grant is revoked at the provider")

	_, err = b.m.TokenSource(tenantID, c.ID).Token(ctx)
	require.ErrorIs(t, err, oauth.ErrNeedsReconnect)
}

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	c, err := b.m.Connect(ctx, tenantID, "service", credential.Secret{})
	require.NoError(t, err)
	require.Equal(t, store.ConnectionActive, c.State)
	sec := b.secret(t, c)
	require.NotEmpty(t, sec.AccessToken)
	require.Empty(t, sec.RefreshToken)

	// A 401 fetches a new token with the client credentials.
	calls := b.op.tokenCalls.Load()
	fresh, err := b.m.TokenSource(tenantID, c.ID).ForceRefresh(ctx, sec.AccessToken)
	require.NoError(t, err)
	b.remember(fresh)
	require.NotEqual(t, sec.AccessToken, fresh.AccessToken)
	require.Equal(t, calls+1, b.op.tokenCalls.Load())

	// Wrong client secret: refused, nothing stored, the secret is not in
	// the error.
	_, err = b.m.Connect(ctx, tenantID, "service", credential.Secret{Extra: map[string]string{
		oauth.ExtraClientID: serviceID, oauth.ExtraClientSecret: "wrong-service-secret",
	}})
	var te *oauth.TokenError
	require.ErrorAs(t, err, &te)
	require.NotContains(t, err.Error(), "wrong-service-secret")
	b.secrets.Store("wrong-service-secret", true)
	conns, err := b.st.ListConnections(ctx, tenantID)
	require.NoError(t, err)
	require.Len(t, conns, 1)
}

func TestAPIKeyConnection(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c, err := b.m.Connect(ctx, tenantID, "apikey", credential.Secret{APIKey: "key-value-123"})
	require.NoError(t, err)
	b.secrets.Store("key-value-123", true)
	got, err := b.m.TokenSource(tenantID, c.ID).Token(ctx)
	require.NoError(t, err)
	require.Equal(t, "key-value-123", got.APIKey)
}

func TestAuthorize(t *testing.T) {
	t.Parallel()
	sec := credential.Secret{AccessToken: "at", TokenType: "bearer", APIKey: "k", Username: "u", Password: "p"}
	cases := []struct {
		name  string
		p     oauth.ProviderConfig
		check func(t *testing.T, r *http.Request)
	}{
		{"bearer", oauth.ProviderConfig{AuthKind: oauth.AuthCode}, func(t *testing.T, r *http.Request) {
			require.Equal(t, "Bearer at", r.Header.Get("Authorization"))
		}},
		{"api key header", oauth.ProviderConfig{AuthKind: oauth.APIKey, APIKeyHeader: "X-Api-Key"}, func(t *testing.T, r *http.Request) {
			require.Equal(t, "k", r.Header.Get("X-Api-Key"))
		}},
		{"api key default header with prefix", oauth.ProviderConfig{AuthKind: oauth.APIKey, APIKeyPrefix: "Token "}, func(t *testing.T, r *http.Request) {
			require.Equal(t, "Token k", r.Header.Get("Authorization"))
		}},
		{"api key query", oauth.ProviderConfig{AuthKind: oauth.APIKey, APIKeyQuery: "api_key"}, func(t *testing.T, r *http.Request) {
			require.Equal(t, "k", r.URL.Query().Get("api_key"))
			require.Equal(t, "1", r.URL.Query().Get("page"), "existing query kept")
			require.Empty(t, r.Header.Get("Authorization"))
		}},
		{"basic", oauth.ProviderConfig{AuthKind: oauth.Basic}, func(t *testing.T, r *http.Request) {
			u, p, ok := r.BasicAuth()
			require.True(t, ok)
			require.Equal(t, "u", u)
			require.Equal(t, "p", p)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, _ := http.NewRequest(http.MethodGet, "https://partner.example/x?page=1", nil)
			require.NoError(t, tc.p.Authorize(r, sec))
			tc.check(t, r)
		})
	}
	r, _ := http.NewRequest(http.MethodGet, "https://partner.example/x", nil)
	require.Error(t, (&oauth.ProviderConfig{AuthKind: oauth.AuthCode}).Authorize(r, credential.Secret{}))
}
