package oauth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/oauth"
	"github.com/accordhq/accord/internal/spec"
)

func testKeyPEM(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

func TestConfigFromManifest(t *testing.T) {
	t.Parallel()
	key := testKeyPEM(t)
	env := map[string]string{
		"PARTNER_HOST":      "partner.example.com",
		"CRM_CLIENT_ID":     " crm-client ",
		"CRM_CLIENT_SECRET": "crm-secret",
		"SVC_KEY":           strings.ReplaceAll(key, "\n", `\n`),
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	no := false
	base := func(a spec.Auth) *spec.Provider {
		return &spec.Provider{
			Name: "crm", Title: "Acme CRM", BaseURL: "https://${PARTNER_HOST}/api/", Auth: a,
			Scopes: []spec.Scope{{Name: "contacts.read", Description: "Read contacts"}, {Name: "contacts.write", Description: "Update contacts"}},
		}
	}

	tests := []struct {
		name  string
		auth  spec.Auth
		check func(t *testing.T, c *oauth.ProviderConfig)
	}{
		{
			name: "authorization code",
			auth: spec.Auth{
				Kind: spec.AuthOAuth2Code, AuthorizeURL: "https://${PARTNER_HOST}/oauth/authorize",
				TokenURL: "https://partner.example.com/oauth/token", RevokeURL: "https://partner.example.com/oauth/revoke",
				AuthParams:  map[string]string{"prompt": "consent"},
				ClientIDEnv: "CRM_CLIENT_ID", ClientSecretEnv: "CRM_CLIENT_SECRET",
				Test: &spec.Endpoint{Method: "GET", Path: "/v2/me"},
			},
			check: func(t *testing.T, c *oauth.ProviderConfig) {
				require.Equal(t, oauth.AuthCode, c.AuthKind)
				require.Equal(t, "Acme CRM", c.DisplayName)
				require.Equal(t, "https://partner.example.com/oauth/authorize", c.AuthURL)
				require.Equal(t, "https://partner.example.com/oauth/token", c.TokenURL)
				require.Equal(t, "https://partner.example.com/oauth/revoke", c.RevokeURL)
				require.Equal(t, "crm-client", c.ClientID)
				require.Equal(t, "crm-secret", c.ClientSecret)
				require.Equal(t, map[string]string{"prompt": "consent"}, c.AuthParams)
				require.False(t, c.DisablePKCE, "PKCE is on unless the manifest turns it off")
				require.Equal(t, "https://partner.example.com/api/v2/me", c.TestURL)
				require.Equal(t, []oauth.Scope{
					{Name: "contacts.read", Description: "Read contacts"},
					{Name: "contacts.write", Description: "Update contacts"},
				}, c.Scopes)
			},
		},
		{
			name: "public client without PKCE",
			auth: spec.Auth{
				Kind: spec.AuthOAuth2Code, AuthorizeURL: "https://partner.example.com/a", TokenURL: "https://partner.example.com/t",
				ClientIDEnv: "CRM_CLIENT_ID", PKCE: &no,
			},
			check: func(t *testing.T, c *oauth.ProviderConfig) {
				require.True(t, c.DisablePKCE)
				require.Empty(t, c.ClientSecret)
				require.Empty(t, c.TestURL)
			},
		},
		{
			name: "client credentials with a secret",
			auth: spec.Auth{Kind: spec.AuthOAuth2ClientCredentials, TokenURL: "https://partner.example.com/t", ClientIDEnv: "CRM_CLIENT_ID", ClientSecretEnv: "CRM_CLIENT_SECRET"},
			check: func(t *testing.T, c *oauth.ProviderConfig) {
				require.Equal(t, oauth.ClientCredentials, c.AuthKind)
				require.NotEqual(t, oauth.PrivateKeyJWT, c.ClientAuth)
			},
		},
		{
			name: "client credentials with a signing key",
			auth: spec.Auth{Kind: spec.AuthOAuth2ClientCredentials, TokenURL: "https://partner.example.com/t", ClientIDEnv: "CRM_CLIENT_ID", PrivateKeyEnv: "SVC_KEY"},
			check: func(t *testing.T, c *oauth.ProviderConfig) {
				require.Equal(t, oauth.PrivateKeyJWT, c.ClientAuth)
				require.Equal(t, key, string(c.PrivateKeyPEM), `"\n" escapes in the variable become newlines`)
			},
		},
		{
			name: "jwt bearer",
			auth: spec.Auth{Kind: spec.AuthJWTBearer, TokenURL: "https://partner.example.com/t", ClientIDEnv: "CRM_CLIENT_ID", PrivateKeyEnv: "SVC_KEY", Audience: "https://partner.example.com"},
			check: func(t *testing.T, c *oauth.ProviderConfig) {
				require.Equal(t, oauth.JWTBearer, c.AuthKind)
				require.Equal(t, "https://partner.example.com", c.Audience)
				require.NotEmpty(t, c.PrivateKeyPEM)
			},
		},
		{
			name: "api key in a header",
			auth: spec.Auth{Kind: spec.AuthAPIKey, Header: "X-Api-Key", Prefix: "Token ", Test: &spec.Endpoint{Method: "GET", Path: "me"}},
			check: func(t *testing.T, c *oauth.ProviderConfig) {
				require.Equal(t, oauth.APIKey, c.AuthKind)
				require.Equal(t, "X-Api-Key", c.APIKeyHeader)
				require.Equal(t, "Token ", c.APIKeyPrefix)
				require.Equal(t, "https://partner.example.com/api/me", c.TestURL)
				require.Empty(t, c.ClientID, "no OAuth client for a static key")
			},
		},
		{
			name: "api key in the query",
			auth: spec.Auth{Kind: spec.AuthAPIKey, QueryParam: "key"},
			check: func(t *testing.T, c *oauth.ProviderConfig) {
				require.Equal(t, "key", c.APIKeyQuery)
			},
		},
		{
			name: "bearer",
			auth: spec.Auth{Kind: spec.AuthBearer},
			check: func(t *testing.T, c *oauth.ProviderConfig) {
				require.Equal(t, oauth.APIKey, c.AuthKind)
				require.Equal(t, "Authorization", c.APIKeyHeader)
				require.Equal(t, "Bearer ", c.APIKeyPrefix)
			},
		},
		{
			name:  "basic",
			auth:  spec.Auth{Kind: spec.AuthBasic},
			check: func(t *testing.T, c *oauth.ProviderConfig) { require.Equal(t, oauth.Basic, c.AuthKind) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := oauth.ConfigFromManifest(base(tt.auth), lookup)
			require.NoError(t, err)
			require.Equal(t, "crm", c.Name)
			tt.check(t, c)
		})
	}
}

func TestConfigFromManifestErrors(t *testing.T) {
	t.Parallel()
	env := map[string]string{"CRM_CLIENT_ID": "crm-client", "CRM_CLIENT_SECRET": "crm-secret-value"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	code := func(mut func(a *spec.Auth)) *spec.Provider {
		a := spec.Auth{
			Kind: spec.AuthOAuth2Code, AuthorizeURL: "https://partner.example.com/a", TokenURL: "https://partner.example.com/t",
			ClientIDEnv: "CRM_CLIENT_ID", ClientSecretEnv: "CRM_CLIENT_SECRET",
		}
		mut(&a)
		return &spec.Provider{Name: "crm", BaseURL: "https://partner.example.com", Auth: a}
	}
	tests := []struct {
		name    string
		p       *spec.Provider
		missing bool
		want    []string
	}{
		{"client id variable unset", code(func(a *spec.Auth) { a.ClientIDEnv = "ACME_CLIENT_ID" }), true, []string{"client_id_env", "ACME_CLIENT_ID", "not set"}},
		{"no client_id_env", code(func(a *spec.Auth) { a.ClientIDEnv = "" }), false, []string{"client_id_env"}},
		{"client secret variable unset", code(func(a *spec.Auth) { a.ClientSecretEnv = "ACME_SECRET" }), true, []string{"client_secret_env", "ACME_SECRET"}},
		{"jwt bearer without key", code(func(a *spec.Auth) { a.Kind = spec.AuthJWTBearer }), false, []string{"private_key_env"}},
		{"signing key variable unset", code(func(a *spec.Auth) { a.Kind = spec.AuthJWTBearer; a.PrivateKeyEnv = "ACME_KEY" }), true, []string{"ACME_KEY"}},
		{"no token url", code(func(a *spec.Auth) { a.TokenURL = "" }), false, []string{"token_url"}},
		{"unknown kind", code(func(a *spec.Auth) { a.Kind = "saml" }), false, []string{"saml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := oauth.ConfigFromManifest(tt.p, lookup)
			require.Error(t, err)
			require.Equal(t, tt.missing, errors.Is(err, oauth.ErrMissingEnv))
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
			require.NotContains(t, err.Error(), "crm-secret-value")
		})
	}
}

// The shipped providers map without any environment, except the provider
// catalog's OAuth providers (HubSpot): they need their client variables,
// and the app leaves them out of the connect flow until a loaded contract
// uses them, so a fresh `accord serve` still starts.
func TestConfigFromShippedManifests(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../packs/*/providers/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		p, diags := spec.LoadProvider(f)
		require.Empty(t, diags, f)
		c, err := oauth.ConfigFromManifest(p, func(string) (string, bool) { return "", false })
		if errors.Is(err, oauth.ErrMissingEnv) && p.Auth.IsOAuth() && filepath.Base(filepath.Dir(filepath.Dir(f))) == "catalog" {
			c, err = oauth.ConfigFromManifest(p, func(name string) (string, bool) {
				return "configured", name == p.Auth.ClientIDEnv || name == p.Auth.ClientSecretEnv
			})
		}
		require.NoError(t, err, f)
		require.Equal(t, p.Name, c.Name)
		require.Len(t, c.Scopes, len(p.Scopes))
		if p.Auth.Test != nil {
			require.True(t, strings.HasPrefix(c.TestURL, "http"), c.TestURL)
		}
	}
}

// The manifest says how the client authenticates at the token endpoint,
// which scopes are optional and where the account id is; unset, the
// method is detected.
func TestConfigFromManifestTokenAuthMethodAndScopes(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ID": "client", "SECRET": "secret"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	p := &spec.Provider{Name: "crm", BaseURL: "https://crm.example.com", Auth: spec.Auth{
		Kind: spec.AuthOAuth2Code, AuthorizeURL: "https://crm.example.com/authorize", TokenURL: "https://crm.example.com/token",
		ClientIDEnv: "ID", ClientSecretEnv: "SECRET", TokenAuthMethod: "client_secret_post", AccountIDField: "hub_id"},
		Scopes: []spec.Scope{{Name: "crm.read", Description: "Read"}, {Name: "crm.export", Description: "Export", Optional: true}}}
	c, err := oauth.ConfigFromManifest(p, lookup)
	require.NoError(t, err)
	require.Equal(t, oauth.ClientSecretPost, c.ClientAuth)
	require.Equal(t, "hub_id", c.AccountIDField)
	require.Equal(t, []oauth.Scope{{Name: "crm.read", Description: "Read"}, {Name: "crm.export", Description: "Export", Optional: true}}, c.Scopes)

	p.Auth.TokenAuthMethod = ""
	c, err = oauth.ConfigFromManifest(p, lookup)
	require.NoError(t, err)
	require.Equal(t, oauth.ClientSecretAuto, c.ClientAuth, "unset: detected, basic first")
}
