package oauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/store"
)

// TeardownAuthorizer authenticates the calls that clean up after a
// connection at its partner (deleting its webhook subscriptions) once it
// is disconnected but still holds its credential. Authorizer refuses such
// a connection, because its writes must stop; the cleanup must not. The
// stored credential is sent as it is, never refreshed: a disconnected
// connection gets no new tokens, so an access token that expired
// meanwhile is refused by the partner and the cleanup says so.
func (m *Manager) TeardownAuthorizer(ctx context.Context, conn store.Connection) (connector.Authorizer, error) {
	p, err := m.Provider(conn.Provider)
	if err != nil {
		return nil, err
	}
	if len(conn.Secret) == 0 {
		return nil, errors.New("oauth: the connection holds no credential any more")
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
