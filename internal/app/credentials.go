package app

import (
	"context"
	"fmt"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/oauth"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/web/api"
)

// vaultCredentials opens connection secrets from the vault: the webhook
// signing secrets for ingress and the request authorisation for the engine.
type vaultCredentials struct {
	vault *credential.Vault
	oauth *oauth.Manager
}

// WebhookSecrets returns the connection's webhook secret, and the previous
// one while a rotation is in progress.
func (c vaultCredentials) WebhookSecrets(ctx context.Context, conn store.Connection) ([][]byte, error) {
	s, err := c.vault.OpenSecret(ctx, conn.TenantID, conn.Secret)
	if err != nil {
		return nil, fmt.Errorf("opening connection secret: %w", err)
	}
	var out [][]byte
	for _, k := range []string{api.WebhookSecretKey, api.WebhookSecretPreviousKey} {
		if v := s.Extra[k]; v != "" {
			out = append(out, []byte(v))
		}
	}
	return out, nil
}

// Authorizer authenticates requests with the connection's API key, basic
// credentials or access token.
func (c vaultCredentials) Authorizer(ctx context.Context, conn store.Connection, p *spec.Provider) (connector.Authorizer, error) {
	if p.Auth.IsOAuth() {
		// Token sources refresh ahead of expiry and once on a 401.
		return c.oauth.Authorizer(ctx, conn)
	}
	s, err := c.vault.OpenSecret(ctx, conn.TenantID, conn.Secret)
	if err != nil {
		return nil, fmt.Errorf("opening connection secret: %w", err)
	}
	switch {
	case p.Auth.Kind == spec.AuthBasic:
		return connector.Basic{Username: s.Username, Password: s.Password}, nil
	case s.APIKey != "":
		return connector.AuthorizerFor(p, s.APIKey), nil
	default:
		return connector.AuthorizerFor(p, s.AccessToken), nil
	}
}
