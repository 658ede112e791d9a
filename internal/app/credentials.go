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

// Authorizer authenticates requests through the OAuth manager, which
// knows every auth kind of the loaded manifests: static secrets (API key,
// bearer, basic) and token sources that refresh ahead of expiry and once on
// a 401.
func (c vaultCredentials) Authorizer(ctx context.Context, conn store.Connection, _ *spec.Provider) (connector.Authorizer, error) {
	return c.oauth.Authorizer(ctx, conn)
}
