package oauth_test

// Tests of issue 8 ("connections that survive a real OAuth provider"),
// against the in-process OP, which rotates refresh tokens and revokes the
// whole family when a rotated-out one is presented again.

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/connection"
	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/oauth"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/postgres"
)

// eachStore runs fn over SQLite and, when ACCORD_TEST_POSTGRES is set,
// over PostgreSQL.
func eachStore(t *testing.T, fn func(t *testing.T, b *bundle)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, setup(t))
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("ACCORD_TEST_POSTGRES")
		if dsn == "" {
			t.Skip("set ACCORD_TEST_POSTGRES=postgres://… to run the PostgreSQL tests")
		}
		t.Parallel()
		fn(t, setupWith(t, postgres.OpenTestSchema(t, dsn)))
	})
}

func countConnections(t *testing.T, b *bundle) int {
	t.Helper()
	conns, err := b.st.ListConnections(context.Background(), tenantID)
	require.NoError(t, err)
	return len(conns)
}

func lastAudit(t *testing.T, b *bundle) (store.AuditEntry, map[string]any) {
	t.Helper()
	entries, err := b.st.ListAudit(context.Background(), tenantID, 0, 1000)
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	e := entries[len(entries)-1]
	var d map[string]any
	require.NoError(t, json.Unmarshal(e.Detail, &d))
	return e, d
}

// TestConnectLinkSingleUse: a connect link starts one flow. Starting it
// twice, after its flow finished, or (a reconnect link) after the
// connection was disconnected, is refused and changes nothing.
func TestConnectLinkSingleUse(t *testing.T) {
	t.Parallel()
	eachStore(t, testConnectLinkSingleUse)
}

func testConnectLinkSingleUse(t *testing.T, b *bundle) {
	ctx := context.Background()

	// Started twice: the second start is refused before the provider.
	token := b.newSession(t, "web", "", 15*time.Minute)
	_, _, resp := get(t, b.browser(t, true), b.m.ConnectURL(token))
	callback := resp.Header.Get("Location")
	status, body, _ := get(t, b.browser(t, true), b.m.ConnectURL(token))
	require.Equal(t, http.StatusGone, status)
	require.Contains(t, body, "already used")
	status, body, _ = get(t, http.DefaultClient, callback)
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, 1, countConnections(t, b))

	// After its flow finished: no duplicate connection.
	status, body, _ = get(t, b.browser(t, false), b.m.ConnectURL(token))
	require.Equal(t, http.StatusGone, status, body)
	require.Equal(t, 1, countConnections(t, b))

	// A reconnect link issued before a disconnect is cancelled by it, and
	// so is a sign-in already at the provider.
	conns, err := b.st.ListConnections(ctx, tenantID)
	require.NoError(t, err)
	c := conns[0]
	b.secret(t, c)
	unused, err := b.m.NewReconnectSession(ctx, tenantID, c.ID, "", 15*time.Minute, false)
	require.NoError(t, err)
	started, err := b.m.NewReconnectSession(ctx, tenantID, c.ID, "", 15*time.Minute, false)
	require.NoError(t, err)
	_, _, resp = get(t, b.browser(t, true), b.m.ConnectURL(started))
	inFlight := resp.Header.Get("Location")
	_, err = b.m.Disconnect(ctx, tenantID, c.ID, "admin@example.com")
	require.NoError(t, err)
	status, body, _ = get(t, b.browser(t, false), b.m.ConnectURL(unused))
	require.Equal(t, http.StatusGone, status, body)
	status, _, _ = get(t, http.DefaultClient, inFlight)
	require.Equal(t, http.StatusBadRequest, status, "the sign-in in progress was cancelled")
	c, err = b.st.GetConnection(ctx, tenantID, c.ID)
	require.NoError(t, err)
	require.Equal(t, store.ConnectionDisconnected, c.State, "nothing revived it")
	require.Empty(t, c.Secret)
	_, d := lastAudit(t, b)
	require.EqualValues(t, 1, d["cancelled_links"])
	require.EqualValues(t, 1, d["cancelled_sign_ins"])

	// A link issued after the disconnect reconnects it, in place.
	fresh, err := b.m.NewReconnectSession(ctx, tenantID, c.ID, "", 15*time.Minute, false)
	require.NoError(t, err)
	status, body, _ = get(t, b.browser(t, false), b.m.ConnectURL(fresh))
	require.Equal(t, http.StatusOK, status, body)
	c, err = b.st.GetConnection(ctx, tenantID, c.ID)
	require.NoError(t, err)
	require.Equal(t, store.ConnectionActive, c.State)
	b.secret(t, c)
	require.Equal(t, 1, countConnections(t, b))
}

// TestReconnectAsAnotherAccountRefused: a reconnect that signs in as
// another provider account is refused (the held writes belong to the
// first), unless the link was created allowing it; the audit entry then
// names both accounts.
func TestReconnectAsAnotherAccountRefused(t *testing.T) {
	t.Parallel()
	eachStore(t, testReconnectAsAnotherAccountRefused)
}

func testReconnectAsAnotherAccountRefused(t *testing.T, b *bundle) {
	ctx := context.Background()
	_, _, c := b.connect(t, "web")
	first := b.secret(t, c)
	require.NotEmpty(t, c.AccountID, "the OP's id_token names the account")
	b.op.revokeGrant(t, first.RefreshToken)
	_, err := b.m.TokenSource(tenantID, c.ID).ForceRefresh(ctx, first.AccessToken)
	require.ErrorIs(t, err, oauth.ErrNeedsReconnect)

	b.op.signInAs("test-user2")
	token, err := b.m.NewReconnectSession(ctx, tenantID, c.ID, "", 15*time.Minute, false)
	require.NoError(t, err)
	status, body, _ := get(t, b.browser(t, false), b.m.ConnectURL(token))
	require.Equal(t, http.StatusConflict, status, body)
	require.Contains(t, body, "different account")
	got, err := b.st.GetConnection(ctx, tenantID, c.ID)
	require.NoError(t, err)
	require.Equal(t, store.ConnectionNeedsReconnect, got.State, "still paused: writes stay held")
	require.Equal(t, c.AccountID, got.AccountID)
	require.Equal(t, c.Secret, got.Secret, "the other account's tokens were not stored")

	token, err = b.m.NewReconnectSession(ctx, tenantID, c.ID, "", 15*time.Minute, true)
	require.NoError(t, err)
	status, body, _ = get(t, b.browser(t, false), b.m.ConnectURL(token))
	require.Equal(t, http.StatusOK, status, body)
	got, err = b.st.GetConnection(ctx, tenantID, c.ID)
	require.NoError(t, err)
	require.Equal(t, store.ConnectionActive, got.State)
	require.NotEqual(t, c.AccountID, got.AccountID)
	b.secret(t, got)
	e, d := lastAudit(t, b)
	require.Equal(t, "connection.reconnected", e.Action)
	require.Equal(t, c.AccountID, d["previous_account_id"])
	require.Equal(t, got.AccountID, d["account_id"])
	require.Equal(t, true, d["account_changed"])
}

// TestRefreshOnceAcrossProcesses: two Accord processes (two Managers, each
// with its own vault cache and in-process lock) over one database, 50
// concurrent 401s for one connection: exactly one refresh grant reaches
// the provider and no rotated-out refresh token is ever presented again.
func TestRefreshOnceAcrossProcesses(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		_, _, c := b.connect(t, "web")
		stale := b.secret(t, c)
		vault2, err := credential.NewVault(b.st, b.kms, nil)
		require.NoError(t, err)
		managers := []*oauth.Manager{b.m, b.newManager(t, vault2, nil)}

		const n = 50
		var wg sync.WaitGroup
		results := make([]credential.Secret, n)
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ts := managers[i%2].TokenSource(tenantID, c.ID)
				if i%5 == 0 {
					// Some callers only ask for a token while others
					// force a refresh.
					_, _ = ts.Token(ctx)
				}
				results[i], errs[i] = ts.ForceRefresh(ctx, stale.AccessToken)
			}()
		}
		close(start)
		wg.Wait()
		require.EqualValues(t, 1, b.op.refreshGrants.Load(), "exactly one refresh reached the provider")
		require.Zero(t, b.op.reuseDetected.Load(), "no rotated-out refresh token was presented")
		for i := range n {
			require.NoError(t, errs[i])
			require.Equal(t, results[0].AccessToken, results[i].AccessToken)
		}
		b.remember(results[0])
		got, err := b.st.GetConnection(ctx, tenantID, c.ID)
		require.NoError(t, err)
		require.Equal(t, store.ConnectionActive, got.State)
		require.NoError(t, b.m.TestConnection(ctx, tenantID, c.ID))
	})
}

// TestOperatorErrorsKeepGrants: invalid_client (a wrong or just-rotated
// client secret) and a token endpoint 5xx are the operator's to fix: one
// operator alert per outage, a backoff that spares the endpoint, an error
// the engine retries (connector.ErrAuthUnavailable), and the tenant's
// connection stays active with its grant, which works again once fixed.
func TestOperatorErrorsKeepGrants(t *testing.T) {
	t.Parallel()
	for name, fail := range map[string]struct {
		status int
		body   string
	}{
		"invalid_client": {http.StatusUnauthorized, `{"error":"invalid_client","error_description":"client secret rotated"}`},
		"5xx":            {http.StatusServiceUnavailable, `{"error":"temporarily_unavailable"}`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ctx := context.Background()
			_, _, c := b.connect(t, "web")
			sec := b.secret(t, c)
			ts := b.m.TokenSource(tenantID, c.ID)

			b.op.failTokenEndpoint(fail.status, fail.body)
			_, err := ts.ForceRefresh(ctx, sec.AccessToken)
			require.ErrorIs(t, err, connector.ErrAuthUnavailable)
			require.NotErrorIs(t, err, oauth.ErrNeedsReconnect)
			alert := <-b.alerts
			require.Equal(t, "web", alert.Provider)
			require.Contains(t, alert.Message, "tenants do not need to reconnect")
			if name == "invalid_client" {
				require.Contains(t, alert.Message, "client secret rotated", "the provider's description is kept")
			}

			// Backed off: the next calls do not reach the token endpoint and
			// raise no second alert.
			calls := b.op.tokenCalls.Load()
			for range 5 {
				_, err = ts.ForceRefresh(ctx, sec.AccessToken)
				require.ErrorIs(t, err, connector.ErrAuthUnavailable)
			}
			require.Equal(t, calls, b.op.tokenCalls.Load())
			require.Empty(t, b.alerts)

			got, err := b.st.GetConnection(ctx, tenantID, c.ID)
			require.NoError(t, err)
			require.Equal(t, store.ConnectionActive, got.State, "never needs_reconnect for the operator's error")

			// Fixed: after the backoff the same grant refreshes.
			b.op.failTokenEndpoint(0, "")
			b.offset.Store(int64(3 * time.Second))
			fresh, err := ts.ForceRefresh(ctx, sec.AccessToken)
			require.NoError(t, err)
			b.remember(fresh)
			require.NotEqual(t, sec.AccessToken, fresh.AccessToken)
		})
	}
}

// TestClientCredentialsRecoverInPlace: a client credentials connection
// that needs reconnecting recovers by running its grant again, keeping its
// id.
func TestClientCredentialsRecoverInPlace(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c, err := b.m.Connect(ctx, tenantID, "service", credential.Secret{})
	require.NoError(t, err)
	old := b.secret(t, c)
	_, _, err = b.m.Lifecycle().Pause(ctx, tenantID, c.ID, store.ConnectionNeedsReconnect, "refused", connection.Entry{}, nil)
	require.NoError(t, err)

	got, err := b.m.Reconnect(ctx, tenantID, c.ID, "admin api", nil)
	require.NoError(t, err)
	require.Equal(t, c.ID, got.ID)
	require.Equal(t, store.ConnectionActive, got.State)
	fresh := b.secret(t, got)
	require.NotEqual(t, old.AccessToken, fresh.AccessToken)
	e, _ := lastAudit(t, b)
	require.Equal(t, "connection.reconnected", e.Action)
	require.Equal(t, 1, countConnections(t, b))

	// An API key connection takes a new secret in place.
	k, err := b.m.Connect(ctx, tenantID, "apikey", credential.Secret{APIKey: "old-key-value"})
	require.NoError(t, err)
	_, err = b.m.Reconnect(ctx, tenantID, k.ID, "admin api", nil)
	require.ErrorIs(t, err, oauth.ErrSecretRequired)
	k, err = b.m.Reconnect(ctx, tenantID, k.ID, "admin api", &credential.Secret{APIKey: "new-key-value"})
	require.NoError(t, err)
	b.secrets.Store("old-key-value", true)
	b.secrets.Store("new-key-value", true)
	require.Equal(t, "new-key-value", b.secret(t, k).APIKey)

	// Authorization code reconnects through the browser.
	_, _, w := b.connect(t, "web")
	b.secret(t, w)
	_, err = b.m.Reconnect(ctx, tenantID, w.ID, "admin api", nil)
	require.ErrorIs(t, err, oauth.ErrBrowserReconnect)
}

// TestReconnectURLSingleUse: the link a record error carries lands on the
// provider's consent page once, and not at all after a disconnect.
func TestReconnectURLSingleUse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, _, c := b.connect(t, "web")
	b.secret(t, c)
	u, err := b.m.ReconnectURL(ctx, tenantID, c.ID, 72*time.Hour)
	require.NoError(t, err)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(u)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Location"), b.op.URL+"/authorize?")
	status, _, _ := get(t, noFollow, u)
	require.Equal(t, http.StatusGone, status)

	_, err = b.m.ReconnectURL(ctx, tenantID, mustConnect(t, b, "service").ID, time.Hour)
	require.ErrorIs(t, err, oauth.ErrNotBrowserFlow)
}

func mustConnect(t *testing.T, b *bundle, provider string) store.Connection {
	t.Helper()
	c, err := b.m.Connect(context.Background(), tenantID, provider, credential.Secret{})
	require.NoError(t, err)
	b.secret(t, c)
	return c
}
