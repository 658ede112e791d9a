package oauth_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/oauth"
	"github.com/accordhq/accord/internal/store"
)

func TestConnectCodeWithPKCE(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	// First hop: Accord sends the browser to the provider with a PKCE
	// challenge, a state and the manifest's consent parameters.
	token := b.newSession(t, "public", "https://app.example.com/settings", 5*time.Minute)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(b.m.ConnectURL(token))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(loc.String(), b.op.URL+"/authorize?"))
	q := loc.Query()
	require.Equal(t, "S256", q.Get("code_challenge_method"))
	require.NotEmpty(t, q.Get("code_challenge"))
	require.GreaterOrEqual(t, len(q.Get("state")), 40)
	require.Equal(t, "consent", q.Get("prompt"))

	// The public client has no secret: the provider only issues tokens
	// because the PKCE verifier matches.
	status, body, c := b.connect(t, "public")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "Connected to Partner public")
	require.Contains(t, body, `href="https://app.example.com/settings"`)
	require.Equal(t, store.ConnectionActive, c.State)
	require.ElementsMatch(t, []string{"openid", "offline_access", "custom_scope"}, c.GrantedScopes)
	require.True(t, strings.HasPrefix(c.ID, "conn_"))
	require.NotContains(t, string(c.Secret), "Bearer", "the secret is stored sealed")

	sec := b.secret(t, c)
	require.NotEmpty(t, sec.AccessToken)
	require.NotEmpty(t, sec.RefreshToken)
	require.NotContains(t, body, sec.AccessToken)

	require.NoError(t, b.m.TestConnection(ctx, tenantID, c.ID))

	changed := <-b.changes
	require.Equal(t, c.ID, changed.ID)
	entries, err := b.st.ListAudit(ctx, tenantID, 0, 10)
	require.NoError(t, err)
	require.Equal(t, "connection.created", entries[len(entries)-1].Action)
	require.NotContains(t, string(entries[len(entries)-1].Detail), sec.AccessToken)
}

func TestConnectReplayedForgedAndExpiredState(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	// Stop before Accord's callback to hold the provider's redirect.
	token := b.newSession(t, "web", "", 5*time.Minute)
	_, _, resp := get(t, b.browser(t, true), b.m.ConnectURL(token))
	callback := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(callback, b.accord.URL+"/connect/callback?"), callback)

	status, body, _ := get(t, http.DefaultClient, callback)
	require.Equal(t, http.StatusOK, status, body)

	// The same callback again: state is single use.
	status, body, _ = get(t, http.DefaultClient, callback)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, body, "already used")

	// A state Accord never issued.
	u, _ := url.Parse(callback)
	q := u.Query()
	q.Set("state", "forged-state-value")
	u.RawQuery = q.Encode()
	status, body, _ = get(t, http.DefaultClient, u.String())
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, body, "not valid")

	conns, err := b.st.ListConnections(ctx, tenantID)
	require.NoError(t, err)
	require.Len(t, conns, 1, "replays and forgeries created nothing")

	// A state that outlived StateTTL while the user was at the provider.
	token = b.newSession(t, "web", "", 5*time.Minute)
	_, _, resp = get(t, b.browser(t, true), b.m.ConnectURL(token))
	b.offset.Store(int64(11 * time.Minute))
	status, body, _ = get(t, http.DefaultClient, resp.Header.Get("Location"))
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, body, "expired")
	conns, err = b.st.ListConnections(ctx, tenantID)
	require.NoError(t, err)
	require.Len(t, conns, 1)
}

func TestConnectSessionChecked(t *testing.T) {
	t.Parallel()
	b := setup(t)

	token := b.newSession(t, "web", "", time.Minute)
	tampered := strings.Replace(token, token[:4], "AAAA", 1)
	for name, tok := range map[string]string{"tampered": tampered, "garbage": "nope", "empty": ""} {
		status, body, _ := get(t, http.DefaultClient, b.m.ConnectURL(tok))
		require.Equal(t, http.StatusBadRequest, status, name)
		require.Contains(t, body, "not valid", name)
	}

	b.offset.Store(int64(2 * time.Minute))
	status, _, _ := get(t, http.DefaultClient, b.m.ConnectURL(token))
	require.Equal(t, http.StatusBadRequest, status, "expired session")
}

func TestConnectWrongClientSecret(t *testing.T) {
	t.Parallel()
	b := setup(t)
	status, body, c := b.connect(t, "badsecret")
	require.Equal(t, http.StatusBadGateway, status)
	require.Contains(t, body, "rejected Accord&#39;s client credentials")
	require.NotContains(t, body, "not-the-secret")
	require.Empty(t, c.ID, "no connection was created")
	b.secrets.Store("not-the-secret", true)
}

func TestConnectMissingScopes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	status, body, c := b.connect(t, "strict")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "permissions are missing")
	require.Contains(t, body, "Create and update incidents")
	require.Equal(t, store.ConnectionMissingScopes, c.State)
	require.Contains(t, c.StateReason, "Create and update incidents (tickets.write)")

	_, err := b.m.TokenSource(tenantID, c.ID).Token(ctx)
	var nr *oauth.NeedsReconnectError
	require.ErrorAs(t, err, &nr)
	require.Equal(t, store.ConnectionMissingScopes, nr.State)
}
