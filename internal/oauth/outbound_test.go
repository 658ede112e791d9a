package oauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/oauth"
)

const partnerSecret = "partner-secret-4c1f9a"

// elsewhere is the host a hostile or misconfigured partner redirects to:
// it must never receive a request, so never a credential.
type elsewhere struct {
	srv  *httptest.Server
	hits atomic.Int32
}

func newElsewhere(t *testing.T) *elsewhere {
	t.Helper()
	e := &elsewhere{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.hits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

// redirector answers every request with status and Location: target.
func redirector(t *testing.T, status int, target string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, status)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// tokenEndpoint answers every token request with status and body.
func tokenEndpoint(t *testing.T, status int, body any) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/token"
}

var goodToken = map[string]any{"access_token": "access-" + partnerSecret, "token_type": "Bearer", "expires_in": 3600}

func managerWith(t *testing.T, b *bundle, outbound *connector.Config, providers ...*oauth.ProviderConfig) *oauth.Manager {
	t.Helper()
	m, err := oauth.NewManager(b.st, b.vault, providers, &oauth.Config{
		BaseURL:    b.accord.URL,
		SessionKey: []byte("0123456789abcdef0123456789abcdef-test-session-key"),
		Outbound:   outbound,
	})
	require.NoError(t, err)
	return m
}

var loopbackAllowed = &connector.Config{AllowLoopback: true}

func TestTestConnectionFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		other := newElsewhere(t)
		testURL := redirector(t, status, other.srv.URL+"/steal") + "/me"
		m := managerWith(t, b, loopbackAllowed,
			&oauth.ProviderConfig{Name: "header", AuthKind: oauth.APIKey, APIKeyHeader: "X-Api-Key", TestURL: testURL},
			&oauth.ProviderConfig{Name: "query", AuthKind: oauth.APIKey, APIKeyQuery: "api_key", TestURL: testURL},
			&oauth.ProviderConfig{Name: "bearer", AuthKind: oauth.APIKey, APIKeyHeader: "Authorization", APIKeyPrefix: "Bearer ", TestURL: testURL},
			&oauth.ProviderConfig{Name: "basic", AuthKind: oauth.Basic, TestURL: testURL},
			&oauth.ProviderConfig{Name: "oauth", AuthKind: oauth.ClientCredentials, ClientID: "id", ClientSecret: "client-" + partnerSecret,
				TokenURL: tokenEndpoint(t, http.StatusOK, goodToken), TestURL: testURL},
		)
		for _, name := range []string{"header", "query", "bearer", "basic", "oauth"} {
			c, err := m.Connect(ctx, tenantID, name, credential.Secret{APIKey: partnerSecret, Username: "bot", Password: partnerSecret})
			require.NoError(t, err, name)
			err = m.TestConnection(ctx, tenantID, c.ID)
			var pe *connector.PartnerError
			require.ErrorAs(t, err, &pe, name)
			require.Equal(t, status, pe.Status, name)
			require.Contains(t, err.Error(), other.srv.URL+"/steal", "%s: the error names the Location", name)
			require.NotContains(t, err.Error(), partnerSecret, name)
		}
		require.Zero(t, other.hits.Load(), "the redirect target saw no request, so no credential")
	}
}

func TestTokenEndpointRedirectIsNotRePosted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	other := newElsewhere(t)
	m := managerWith(t, b, loopbackAllowed, &oauth.ProviderConfig{
		Name: "cc", AuthKind: oauth.ClientCredentials, ClientID: "id", ClientSecret: "client-" + partnerSecret,
		TokenURL: redirector(t, http.StatusTemporaryRedirect, other.srv.URL+"/token"),
	})
	_, err := m.Connect(ctx, tenantID, "cc", credential.Secret{})
	var te *oauth.TokenError
	require.ErrorAs(t, err, &te)
	require.Equal(t, http.StatusTemporaryRedirect, te.StatusCode)
	require.Contains(t, err.Error(), "redirect")
	require.Contains(t, err.Error(), other.srv.URL+"/token", "the error names the Location")
	require.NotContains(t, err.Error(), partnerSecret)
	require.Zero(t, other.hits.Load(), "the token request was not re-posted")
}

func TestRevocationFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	other := newElsewhere(t)
	m := managerWith(t, b, loopbackAllowed, &oauth.ProviderConfig{
		Name: "cc", AuthKind: oauth.ClientCredentials, ClientID: "id", ClientSecret: "client-" + partnerSecret,
		TokenURL:  tokenEndpoint(t, http.StatusOK, goodToken),
		RevokeURL: redirector(t, http.StatusTemporaryRedirect, other.srv.URL+"/revoke"),
	})
	c, err := m.Connect(ctx, tenantID, "cc", credential.Secret{})
	require.NoError(t, err)
	revoked, err := m.Disconnect(ctx, tenantID, c.ID, "test")
	require.NoError(t, err)
	require.False(t, revoked)
	require.Zero(t, other.hits.Load())
}

func TestLoopbackRefusedWithoutAllowLoopbackPartners(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(goodToken)
	}))
	t.Cleanup(srv.Close)
	m := managerWith(t, b, nil,
		&oauth.ProviderConfig{Name: "cc", AuthKind: oauth.ClientCredentials, ClientID: "id", ClientSecret: "s", TokenURL: srv.URL + "/token"},
		&oauth.ProviderConfig{Name: "key", AuthKind: oauth.APIKey, TestURL: srv.URL + "/me"},
	)
	_, err := m.Connect(ctx, tenantID, "cc", credential.Secret{})
	require.ErrorIs(t, err, connector.ErrOutboundRefused, "the token call")
	require.Contains(t, err.Error(), "allow_loopback_partners")

	c, err := m.Connect(ctx, tenantID, "key", credential.Secret{APIKey: partnerSecret})
	require.NoError(t, err)
	err = m.TestConnection(ctx, tenantID, c.ID)
	require.ErrorIs(t, err, connector.ErrOutboundRefused, "the test call, as a write would be")
	var pe *connector.PartnerError
	require.ErrorAs(t, err, &pe)
	require.True(t, pe.Policy)
	require.Contains(t, err.Error(), "allow_loopback_partners")
	require.Zero(t, hits.Load())
}

func TestTokenErrorsKeepTheProvidersDescription(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	m := managerWith(t, b, loopbackAllowed,
		&oauth.ProviderConfig{Name: "scope", AuthKind: oauth.ClientCredentials, ClientID: "id", ClientSecret: "client-" + partnerSecret,
			TokenURL: tokenEndpoint(t, http.StatusBadRequest, map[string]any{
				"error": "invalid_scope", "error_description": "scope tickets.write is not enabled for client-" + partnerSecret,
			})},
		&oauth.ProviderConfig{Name: "down", AuthKind: oauth.ClientCredentials, ClientID: "id", ClientSecret: "s",
			TokenURL: tokenEndpoint(t, http.StatusServiceUnavailable, map[string]any{"message": "maintenance"})},
	)
	_, err := m.Connect(ctx, tenantID, "scope", credential.Secret{})
	var te *oauth.TokenError
	require.ErrorAs(t, err, &te)
	require.Equal(t, "invalid_scope", te.Code)
	require.Contains(t, err.Error(), "scope tickets.write is not enabled for")
	require.NotContains(t, err.Error(), partnerSecret, "a secret echoed in the description is redacted")

	_, err = m.Connect(ctx, tenantID, "down", credential.Secret{})
	require.ErrorAs(t, err, &te)
	require.Equal(t, http.StatusServiceUnavailable, te.StatusCode)
	require.Contains(t, err.Error(), "answered 503")
	require.NotContains(t, err.Error(), "could not be reached")
}
