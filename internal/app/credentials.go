package app

import (
	"context"
	"errors"
	"fmt"
	"time"

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

// reconnectLinkTTL is how long the reconnect link in a record error works:
// long enough for an admin to read the alert after a weekend.
const reconnectLinkTTL = 72 * time.Hour

// ReconnectURL is the engine's optional capability for record errors: a
// signed, single-use link to the provider's consent page for an
// authorization code connection, "" for the kinds without a browser flow
// (their record error names the API call that recovers them).
func (c vaultCredentials) ReconnectURL(ctx context.Context, conn store.Connection) (string, error) {
	u, err := c.oauth.ReconnectURL(ctx, conn.TenantID, conn.ID, reconnectLinkTTL)
	if errors.Is(err, oauth.ErrNotBrowserFlow) {
		return "", nil
	}
	return u, err
}
