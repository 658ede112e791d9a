package oauth

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"

	"github.com/accordhq/accord/internal/spec"
)

// ErrMissingEnv is wrapped when a provider manifest names an environment
// variable (client_id_env, client_secret_env, private_key_env) that is not
// set.
var ErrMissingEnv = errors.New("oauth: environment variable not set")

// ConfigFromManifest maps a provider manifest onto the ProviderConfig this
// package runs: the auth kind and its endpoints, the OAuth client read from
// the environment variables the manifest names, the scopes with their
// plain-language descriptions, and the test endpoint resolved against the
// provider's base URL. lookupEnv defaults to os.LookupEnv; ${NAME} in the
// manifest's URLs is expanded with it.
//
// The OAuth kinds need a client id: a manifest without client_id_env, or an
// unset variable, is an error naming it, so a deployment finds out at
// start-up rather than at a tenant's first connect. Secrets read here are
// never quoted in errors.
func ConfigFromManifest(p *spec.Provider, lookupEnv func(string) (string, bool)) (*ProviderConfig, error) {
	if p == nil {
		return nil, errors.New("oauth: nil provider manifest")
	}
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	a := &p.Auth
	expand := func(s string) string { return strings.TrimSpace(spec.ExpandEnv(s, lookupEnv)) }
	cfg := &ProviderConfig{
		Name:        p.Name,
		DisplayName: p.Title,
		AuthURL:     expand(a.AuthorizeURL),
		TokenURL:    expand(a.TokenURL),
		RevokeURL:   expand(a.RevokeURL),
		AuthParams:  maps.Clone(a.AuthParams),
		DisablePKCE: !a.UsesPKCE(),
		Audience:    a.Audience,
		Manifest:    p,
	}
	for _, s := range p.Scopes {
		cfg.Scopes = append(cfg.Scopes, Scope{Name: s.Name, Description: s.Description, Optional: s.Optional})
	}
	cfg.AccountIDField = a.AccountIDField
	cfg.ClientAuth = ClientAuth(a.TokenAuthMethod)
	if a.Test != nil && a.Test.Path != "" {
		cfg.TestURL = strings.TrimRight(p.ResolvedBaseURL(lookupEnv), "/") + "/" + strings.TrimLeft(a.Test.Path, "/")
	}

	switch a.Kind {
	case spec.AuthAPIKey:
		cfg.AuthKind = APIKey
		cfg.APIKeyHeader, cfg.APIKeyQuery, cfg.APIKeyPrefix = a.Header, a.QueryParam, a.Prefix
	case spec.AuthBearer:
		// A static token the tenant pastes in: stored as an API key and sent
		// the way connector.AuthorizerFor sends it.
		cfg.AuthKind = APIKey
		cfg.APIKeyHeader, cfg.APIKeyPrefix = "Authorization", "Bearer "
	case spec.AuthBasic:
		cfg.AuthKind = Basic
	case spec.AuthOAuth2Code:
		cfg.AuthKind = AuthCode
	case spec.AuthOAuth2ClientCredentials:
		cfg.AuthKind = ClientCredentials
	case spec.AuthJWTBearer:
		cfg.AuthKind = JWTBearer
	default:
		return nil, fmt.Errorf("oauth: provider %s: unknown auth kind %q", p.Name, a.Kind)
	}

	if cfg.usesOAuth() {
		if err := cfg.clientFromEnv(a, lookupEnv); err != nil {
			return nil, err
		}
		if cfg.ClientAuth == "" && cfg.ClientSecret != "" {
			// The manifest did not say (token_auth_method): find out from
			// the provider, basic first.
			cfg.ClientAuth = ClientSecretAuto
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	return cfg, nil
}

// clientFromEnv reads the OAuth client id, secret and signing key from the
// variables the manifest names.
func (p *ProviderConfig) clientFromEnv(a *spec.Auth, lookupEnv func(string) (string, bool)) error {
	if a.ClientIDEnv == "" {
		return fmt.Errorf("oauth: provider %s: auth kind %s needs client_id_env naming the variable that holds the OAuth client id", p.Name, a.Kind)
	}
	id, err := requireEnv(p.Name, "client_id_env", a.ClientIDEnv, lookupEnv)
	if err != nil {
		return err
	}
	p.ClientID = strings.TrimSpace(id)
	if a.ClientSecretEnv != "" {
		secret, err := requireEnv(p.Name, "client_secret_env", a.ClientSecretEnv, lookupEnv)
		if err != nil {
			return err
		}
		p.ClientSecret = strings.TrimSpace(secret)
	}
	if a.PrivateKeyEnv != "" {
		key, err := requireEnv(p.Name, "private_key_env", a.PrivateKeyEnv, lookupEnv)
		if err != nil {
			return err
		}
		p.PrivateKeyPEM = []byte(unescapePEM(key))
		// A client credentials provider with a key and no secret
		// authenticates with a signed assertion (private_key_jwt).
		if p.AuthKind == ClientCredentials && p.ClientSecret == "" {
			p.ClientAuth = PrivateKeyJWT
		}
	}
	if p.AuthKind == JWTBearer && len(p.PrivateKeyPEM) == 0 {
		return fmt.Errorf("oauth: provider %s: jwt_bearer needs private_key_env naming the variable that holds the signing key (PEM)", p.Name)
	}
	return nil
}

func requireEnv(provider, field, name string, lookupEnv func(string) (string, bool)) (string, error) {
	v, ok := lookupEnv(name)
	if !ok || strings.TrimSpace(v) == "" {
		return "", fmt.Errorf("%w: provider %s: %s names %s, which is not set", ErrMissingEnv, provider, field, name)
	}
	return v, nil
}

// unescapePEM accepts a PEM key whose newlines were written as "\n", the
// usual way of putting a multi-line value in one environment variable.
func unescapePEM(s string) string {
	if !strings.Contains(s, "\n") && strings.Contains(s, `\n`) {
		return strings.ReplaceAll(s, `\n`, "\n")
	}
	return s
}
