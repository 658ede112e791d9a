package oauth

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/accordhq/accord/internal/spec"
)

// AuthKind is how a provider authenticates Accord's calls.
type AuthKind string

const (
	// AuthCode is the OAuth 2.0 authorization code grant with PKCE (S256)
	// and state; tokens refresh with the refresh_token grant.
	AuthCode AuthKind = "oauth2_authorization_code"
	// ClientCredentials is the OAuth 2.0 client credentials grant: no user,
	// no refresh token; a new token is fetched when one expires.
	ClientCredentials AuthKind = "oauth2_client_credentials"
	// JWTBearer is the RFC 7523 JWT bearer grant: Accord signs an assertion
	// with a private key and trades it for an access token.
	JWTBearer AuthKind = "oauth2_jwt_bearer"
	// APIKey sends a static key in a header or query parameter.
	APIKey AuthKind = "api_key"
	// Basic sends HTTP basic credentials.
	Basic AuthKind = "basic"
)

// ClientAuth is how Accord authenticates itself at the token endpoint.
type ClientAuth string

const (
	// ClientSecretBasic sends client id and secret as HTTP basic auth
	// (the default).
	ClientSecretBasic ClientAuth = "client_secret_basic"
	// ClientSecretPost sends them in the form body.
	ClientSecretPost ClientAuth = "client_secret_post"
	// ClientSecretAuto tries client_secret_basic, and on the token
	// endpoint's refusal (400 or 401) client_secret_post, then keeps to
	// what worked for the provider. ConfigFromManifest uses it for OAuth
	// clients with a secret: the manifest has no key naming the method yet.
	ClientSecretAuto ClientAuth = "auto"
	// PrivateKeyJWT signs a client assertion (RFC 7523 §2.2) with
	// ProviderConfig.PrivateKey instead of sending a secret. Supported for
	// ClientCredentials.
	PrivateKeyJWT ClientAuth = "private_key_jwt"
)

// Scope is one permission Accord asks for, with the plain-language
// description shown to admins ("Read and update tickets").
type Scope struct {
	Name        string
	Description string
	// Optional scopes are asked for but their absence does not make the
	// connection missing_scopes.
	Optional bool
}

// ProviderConfig is what this package needs to know about a provider. The
// app maps the provider manifest onto it.
type ProviderConfig struct {
	// Name is the provider manifest name stored on connections.
	Name string
	// DisplayName is shown on pages. Default: Name.
	DisplayName string
	AuthKind    AuthKind

	AuthURL   string // AuthCode
	TokenURL  string // every OAuth kind
	RevokeURL string // optional: RFC 7009 endpoint used on disconnect

	ClientID     string
	ClientSecret string // never logged
	// ClientAuth is how the client authenticates at the token and
	// revocation endpoints. Default ClientSecretBasic.
	ClientAuth ClientAuth

	// Scopes Accord requests; the non-optional ones are required.
	Scopes []Scope
	// PKCE sends an S256 code challenge. Default on for AuthCode: leave it
	// on unless the provider rejects the parameters.
	DisablePKCE bool
	// AuthParams are extra authorize-URL parameters from the manifest, such
	// as admin consent ("prompt": "consent", "access_type": "offline").
	AuthParams map[string]string
	// TokenParams are extra token-endpoint parameters (for example an
	// "audience" for client credentials).
	TokenParams map[string]string

	// PrivateKeyPEM signs JWT bearer assertions and private_key_jwt client
	// assertions with RS256 (an RSA key, PKCS#1 or PKCS#8 PEM); KeyID is
	// sent as the JWT "kid". Never logged.
	PrivateKeyPEM []byte
	KeyID         string
	// Subject is the JWT bearer "sub" (the account Accord acts as).
	// Default: ClientID.
	Subject string
	// Audience is the JWT "aud". Default: TokenURL.
	Audience string

	// APIKeyHeader or APIKeyQuery names where an API key goes (header
	// default "Authorization" with APIKeyPrefix, e.g. "Bearer ").
	APIKeyHeader string
	APIKeyQuery  string
	APIKeyPrefix string

	// AccountIDField names the token response field that identifies the
	// provider account a grant belongs to (Slack's "team_id", Salesforce's
	// "id"). Default: the OpenID Connect id_token's "sub", else
	// "account_id", else "user_id". A reconnect whose account differs from
	// the connection's is refused unless explicitly allowed. (Manifest key
	// to add in spec: auth.account_id_field.)
	AccountIDField string

	// TestURL is a cheap authenticated GET that proves a connection works
	// (e.g. the provider's "who am I" endpoint).
	TestURL string

	// Manifest is the provider manifest this configuration was mapped
	// from (ConfigFromManifest sets it), or nil. The test call reads its
	// error rules, API version header and test method from it.
	Manifest *spec.Provider
}

func (p *ProviderConfig) displayName() string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	return p.Name
}

// usesOAuth reports whether the kind has access tokens that expire and
// refresh.
func (p *ProviderConfig) usesOAuth() bool {
	switch p.AuthKind {
	case AuthCode, ClientCredentials, JWTBearer:
		return true
	}
	return false
}

func (p *ProviderConfig) validate() error {
	var errs []error
	if p.Name == "" {
		errs = append(errs, errors.New("name is empty"))
	}
	switch p.AuthKind {
	case AuthCode:
		errs = append(errs, checkURL("auth_url", p.AuthURL), checkURL("token_url", p.TokenURL))
		if p.ClientAuth == PrivateKeyJWT {
			errs = append(errs, errors.New("private_key_jwt client authentication is supported for client credentials only"))
		}
	case ClientCredentials:
		errs = append(errs, checkURL("token_url", p.TokenURL))
		if p.ClientAuth == PrivateKeyJWT && len(p.PrivateKeyPEM) == 0 {
			errs = append(errs, errors.New("private_key_jwt needs a private key"))
		}
	case JWTBearer:
		errs = append(errs, checkURL("token_url", p.TokenURL))
		if len(p.PrivateKeyPEM) == 0 {
			errs = append(errs, errors.New("jwt bearer needs a private key"))
		}
	case APIKey, Basic:
	default:
		errs = append(errs, fmt.Errorf("unknown auth kind %q", p.AuthKind))
	}
	if p.RevokeURL != "" {
		errs = append(errs, checkURL("revoke_url", p.RevokeURL))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("provider %q: %w", p.Name, err)
	}
	return nil
}

func checkURL(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%s %q is not an absolute http(s) URL", field, raw)
	}
	return nil
}

func (p *ProviderConfig) scopeNames() []string {
	out := make([]string, 0, len(p.Scopes))
	for _, s := range p.Scopes {
		out = append(out, s.Name)
	}
	return out
}

// missingScopes returns the required scopes not in granted.
func (p *ProviderConfig) missingScopes(granted []string) []Scope {
	have := make(map[string]bool, len(granted))
	for _, g := range granted {
		have[g] = true
	}
	var missing []Scope
	for _, s := range p.Scopes {
		if !s.Optional && !have[s.Name] {
			missing = append(missing, s)
		}
	}
	return missing
}

// DescribeScopes returns the plain-language description of each scope name
// (the name itself when the provider does not describe it), for the API's
// list of granted scopes.
func (p *ProviderConfig) DescribeScopes(names []string) []Scope {
	byName := make(map[string]Scope, len(p.Scopes))
	for _, s := range p.Scopes {
		byName[s.Name] = s
	}
	out := make([]Scope, 0, len(names))
	for _, n := range names {
		s, ok := byName[n]
		if !ok {
			s = Scope{Name: n, Description: n, Optional: true}
		}
		out = append(out, s)
	}
	return out
}

func missingReason(missing []Scope) string {
	parts := make([]string, 0, len(missing))
	for _, s := range missing {
		d := s.Description
		if d == "" {
			d = s.Name
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", d, s.Name))
	}
	return "Accord is missing permissions it needs: " + strings.Join(parts, "; ") +
		". Reconnect and approve them; writes are paused until then."
}

func (p *ProviderConfig) authStyle() oauth2.AuthStyle {
	if p.ClientAuth == ClientSecretPost || p.ClientAuth == PrivateKeyJWT {
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

func (p *ProviderConfig) oauth2Config(redirectURL string, style oauth2.AuthStyle) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     p.ClientID,
		ClientSecret: p.ClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: p.AuthURL, TokenURL: p.TokenURL, AuthStyle: style},
		RedirectURL:  redirectURL,
		Scopes:       p.scopeNames(),
	}
}

// grantedScopes reads the token response's scope (RFC 6749 §5.1: when
// absent, the granted scope is what was requested).
func grantedScopes(tok *oauth2.Token, requested []string) []string {
	raw, _ := tok.Extra("scope").(string)
	if strings.TrimSpace(raw) == "" {
		return append([]string(nil), requested...)
	}
	// A few providers separate with commas despite the RFC.
	return strings.FieldsFunc(raw, func(r rune) bool { return r == ' ' || r == ',' })
}

// checkSettings checks a new connection's settings against the manifest's
// connection_settings (spec.Provider.CheckSettings). A provider without a
// manifest declares none.
func (p *ProviderConfig) checkSettings(in map[string]string) (map[string]string, error) {
	if p.Manifest == nil {
		if len(in) > 0 {
			return nil, fmt.Errorf("%w: %s declares no connection settings", spec.ErrBadSetting, p.Name)
		}
		return nil, nil
	}
	out, err := p.Manifest.CheckSettings(in)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return out, nil
}
