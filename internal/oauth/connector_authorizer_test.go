package oauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/oauth"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// partner is a partner API behind a real connector.Connector: a request is
// authorised when the OP accepts its bearer token, and the test can make it
// refuse one token early, as a partner that invalidated it would.
type partner struct {
	conn     *connector.Connector
	refused  sync.Map // "Bearer <token>" → true
	accepted atomic.Int64
}

func newPartner(t *testing.T, b *bundle) *partner {
	t.Helper()
	pt := &partner{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if _, refused := pt.refused.Load(auth); refused {
			http.Error(w, `{"error":{"message":"token expired"}}`, http.StatusUnauthorized)
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, b.op.URL+"/userinfo", nil)
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, "{}", http.StatusBadGateway)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			http.Error(w, `{"error":{"message":"invalid token"}}`, http.StatusUnauthorized)
			return
		}
		pt.accepted.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"T-1"}`))
	}))
	t.Cleanup(srv.Close)
	p := &spec.Provider{
		Name:    "web",
		BaseURL: srv.URL,
		Auth:    spec.Auth{Kind: spec.AuthOAuth2Code},
		Errors:  &spec.Errors{Message: "error.message"},
		Objects: map[string]*spec.Object{"ticket": {
			Name:      "ticket",
			Fields:    map[string]*spec.Field{"title": {Type: spec.TypeString}},
			Endpoints: spec.Endpoints{Create: &spec.Endpoint{Method: http.MethodPost, Path: "/tickets"}},
		}},
	}
	var err error
	pt.conn, err = connector.New(p, &connector.Config{AllowLoopback: true})
	require.NoError(t, err)
	return pt
}

func (pt *partner) create(ctx context.Context, a connector.Authorizer) error {
	_, err := pt.conn.Create(ctx, connector.Call{Object: "ticket", Doc: map[string]any{"title": "x"}, Auth: a})
	return err
}

func connectWeb(t *testing.T, b *bundle) store.Connection {
	t.Helper()
	status, body, c := b.connect(t, "web")
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, store.ConnectionActive, c.State)
	return c
}

func TestAuthorizerRefreshesOnceOn401(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	pt := newPartner(t, b)
	c := connectWeb(t, b)
	before := b.secret(t, c)

	a, err := b.m.Authorizer(ctx, c)
	require.NoError(t, err)
	_, ok := a.(connector.Refresher)
	require.True(t, ok, "an OAuth authorizer can refresh")
	require.NotContains(t, a.(interface{ String() string }).String(), before.AccessToken)
	require.NoError(t, pt.create(ctx, a))
	require.Zero(t, b.op.refreshGrants.Load())

	// The partner stops accepting the token: the connector refreshes once
	// and the write goes through with the new token.
	pt.refused.Store("Bearer "+before.AccessToken, true)
	require.NoError(t, pt.create(ctx, a))
	require.Equal(t, int64(1), b.op.refreshGrants.Load())
	require.Equal(t, int64(2), pt.accepted.Load())
	after := b.secret(t, c)
	require.NotEqual(t, before.AccessToken, after.AccessToken)

	// Another authorizer built later sends the new token straight away.
	a2, err := b.m.Authorizer(ctx, c)
	require.NoError(t, err)
	require.NoError(t, pt.create(ctx, a2))
	require.Equal(t, int64(1), b.op.refreshGrants.Load())
}

func TestAuthorizerConcurrent401sShareOneRefresh(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	pt := newPartner(t, b)
	c := connectWeb(t, b)
	before := b.secret(t, c)

	// Twenty jobs hold authorizers that all sent the token the partner now
	// refuses.
	const n = 20
	auths := make([]connector.Authorizer, n)
	for i := range auths {
		a, err := b.m.Authorizer(ctx, c)
		require.NoError(t, err)
		auths[i] = a
	}
	pt.refused.Store("Bearer "+before.AccessToken, true)

	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = pt.create(ctx, auths[i]) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, int64(1), b.op.refreshGrants.Load(), "exactly one refresh for twenty 401s")
	b.secret(t, c)
}

func TestAuthorizerFailedRefreshNeedsReconnect(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	pt := newPartner(t, b)
	c := connectWeb(t, b)
	<-b.changes // connected
	sec := b.secret(t, c)

	a, err := b.m.Authorizer(ctx, c)
	require.NoError(t, err)
	require.NoError(t, pt.create(ctx, a))

	// An admin revokes Accord's access at the provider, and the partner
	// refuses the access token.
	b.op.revokeGrant(t, sec.RefreshToken)
	pt.refused.Store("Bearer "+sec.AccessToken, true)

	err = pt.create(ctx, a)
	var pe *connector.PartnerError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, spec.ClassAuth, pe.Class)
	var nr *oauth.NeedsReconnectError
	require.ErrorAs(t, err, &nr, "the auth error says a reconnect is needed")
	require.Equal(t, store.ConnectionNeedsReconnect, nr.State)
	require.NotContains(t, err.Error(), sec.AccessToken)
	require.NotContains(t, err.Error(), sec.RefreshToken)

	changed := <-b.changes
	require.Equal(t, store.ConnectionNeedsReconnect, changed.State)
	stored, err := b.st.GetConnection(ctx, tenantID, c.ID)
	require.NoError(t, err)
	require.Equal(t, store.ConnectionNeedsReconnect, stored.State)

	// Later calls stop before reaching the partner.
	calls := pt.accepted.Load()
	err = pt.create(ctx, a)
	require.ErrorIs(t, err, oauth.ErrNeedsReconnect)
	require.Equal(t, calls, pt.accepted.Load())
}

func TestAuthorizerStaticKinds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c, err := b.m.Connect(ctx, tenantID, "apikey", credential.Secret{APIKey: "static-api-key-value"})
	require.NoError(t, err)
	b.secrets.Store("static-api-key-value", true)

	a, err := b.m.Authorizer(ctx, c)
	require.NoError(t, err)
	_, refreshes := a.(connector.Refresher)
	require.False(t, refreshes, "a static key has nothing to refresh")
	req := httptest.NewRequest(http.MethodGet, "http://partner.example/me", nil)
	require.NoError(t, a.Authorize(ctx, req))
	require.Equal(t, "static-api-key-value", req.Header.Get("X-Api-Key"))

	c.State = store.ConnectionNeedsReconnect
	_, err = b.m.Authorizer(ctx, c)
	require.ErrorIs(t, err, oauth.ErrNeedsReconnect)
}
