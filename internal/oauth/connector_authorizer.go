package oauth

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/store"
)

var (
	_ connector.Authorizer = (*tokenAuthorizer)(nil)
	_ connector.Refresher  = (*tokenAuthorizer)(nil)
)

// Authorizer returns what authenticates the connector's requests for conn.
//
// For the OAuth kinds it is backed by the connection's TokenSource: each
// attempt sends the current access token (refreshed ahead of expiry), and
// it implements connector.Refresher, so after a 401 the connector forces
// one refresh of exactly the token it sent; concurrent 401s on one
// connection share that refresh. A connection that is not active, or whose
// refresh failed for good, yields a *NeedsReconnectError (from Authorize, or
// wrapped in the connector's auth *PartnerError after Refresh) so the
// engine pauses its writes.
//
// For API key, bearer and basic it returns the connector's static
// authorizer for the stored secret.
//
// Either way the Authorizer carries the connection's settings
// (connector.WithSettings), which fill the manifest's {connection.NAME}
// placeholders in base_url and headers.
func (m *Manager) Authorizer(ctx context.Context, conn store.Connection) (connector.Authorizer, error) {
	p, err := m.Provider(conn.Provider)
	if err != nil {
		return nil, err
	}
	if p.usesOAuth() {
		return connector.WithSettings(&tokenAuthorizer{ts: m.TokenSource(conn.TenantID, conn.ID), p: p}, conn.Settings), nil
	}
	if conn.State != store.ConnectionActive {
		return nil, needsReconnect(conn)
	}
	sec, err := m.vault.OpenSecret(ctx, conn.TenantID, conn.Secret)
	if err != nil {
		return nil, fmt.Errorf("opening connection secret: %w", err)
	}
	a, err := p.staticAuthorizer(sec)
	if err != nil {
		return nil, err
	}
	return connector.WithSettings(a, conn.Settings), nil
}

// tokenAuthorizer remembers the access token it last sent: Refresh must
// name the token the partner rejected, so that a refresh another caller
// already made is reused rather than repeated.
type tokenAuthorizer struct {
	ts *TokenSource
	p  *ProviderConfig

	mu   sync.Mutex
	sent string
}

// Authorize implements connector.Authorizer.
func (a *tokenAuthorizer) Authorize(ctx context.Context, req *http.Request) error {
	sec, err := a.ts.Token(ctx)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.sent = sec.AccessToken
	a.mu.Unlock()
	return a.p.Authorize(req, sec)
}

// Refresh implements connector.Refresher.
func (a *tokenAuthorizer) Refresh(ctx context.Context) error {
	a.mu.Lock()
	rejected := a.sent
	a.mu.Unlock()
	if _, err := a.ts.ForceRefresh(ctx, rejected); err != nil {
		return err
	}
	return nil
}

// String keeps tokens out of fmt and logs.
func (a *tokenAuthorizer) String() string {
	return "oauth.Authorizer{connection:" + a.ts.connectionID + "}"
}
