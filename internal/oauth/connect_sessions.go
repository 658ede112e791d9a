package oauth

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/accordhq/accord/internal/store"
)

// ErrNotBrowserFlow is returned for a connect session asked for a provider
// that does not connect through the browser (client credentials, JWT
// bearer, API key, basic).
var ErrNotBrowserFlow = errors.New("oauth: provider does not connect through the browser")

// ErrBadReturnURL is returned for a return URL that is not an absolute
// http(s) URL.
var ErrBadReturnURL = errors.New("oauth: return_url must be an absolute http(s) URL")

// ConnectSession is a signed connect session as the admin API hands it to
// the host product: the browser is sent to URL before ExpiresAt.
type ConnectSession struct {
	Token     string
	URL       string
	ExpiresAt time.Time
}

// CreateConnectSession checks that the tenant exists and that provider
// connects through the browser, then signs a session valid for ttl.
func (m *Manager) CreateConnectSession(ctx context.Context, tenantID, provider, returnURL string, ttl time.Duration) (ConnectSession, error) {
	return m.CreateConnectSessionWith(ctx, tenantID, provider, returnURL, ttl, nil)
}

// CreateConnectSessionWith is CreateConnectSession for a provider whose
// manifest declares connection_settings: settings are checked against
// them now (errors wrap spec.ErrBadSetting and name the setting), carried
// through the sign-in and stored on the connection it creates.
func (m *Manager) CreateConnectSessionWith(ctx context.Context, tenantID, provider, returnURL string, ttl time.Duration,
	settings map[string]string,
) (ConnectSession, error) {
	if err := checkReturnURL(returnURL); err != nil {
		return ConnectSession{}, err
	}
	p, err := m.Provider(provider)
	if err != nil {
		return ConnectSession{}, err
	}
	if p.AuthKind != AuthCode {
		return ConnectSession{}, fmt.Errorf("%w: %s", ErrNotBrowserFlow, p.Name)
	}
	checked, err := p.checkSettings(settings)
	if err != nil {
		return ConnectSession{}, err
	}
	if _, err := m.st.GetTenant(ctx, tenantID); err != nil {
		return ConnectSession{}, fmt.Errorf("connect session: %w", err)
	}
	return m.session(ctx, connectSession{TenantID: tenantID, Provider: p.Name, ReturnURL: returnURL, Settings: checked}, ttl)
}

// CreateReconnectSession is CreateConnectSession for an existing
// connection, which keeps its id so work paused on it resumes. The sign-in
// must be for the connection's provider account unless
// allowAccountChange: held writes never go to another account without
// that choice.
func (m *Manager) CreateReconnectSession(ctx context.Context, tenantID, connectionID, returnURL string, ttl time.Duration, allowAccountChange bool) (ConnectSession, error) {
	if err := checkReturnURL(returnURL); err != nil {
		return ConnectSession{}, err
	}
	c, err := m.st.GetConnection(ctx, tenantID, connectionID)
	if err != nil {
		return ConnectSession{}, fmt.Errorf("reconnect session: %w", err)
	}
	p, err := m.Provider(c.Provider)
	if err != nil {
		return ConnectSession{}, err
	}
	if p.AuthKind != AuthCode {
		return ConnectSession{}, fmt.Errorf("%w: %s", ErrNotBrowserFlow, p.Name)
	}
	return m.session(ctx, connectSession{TenantID: tenantID, Provider: p.Name, ConnectionID: c.ID, ReturnURL: returnURL,
		AllowAccountChange: allowAccountChange}, ttl)
}

// session stores the link's row (what makes it single use) and signs it.
func (m *Manager) session(ctx context.Context, s connectSession, ttl time.Duration) (ConnectSession, error) {
	now := m.cfg.Now()
	exp := time.Unix(now.Add(ttl).Unix(), 0).UTC()
	s.ExpiresAt, s.ID = exp.Unix(), "cs_"+randomToken(12)
	err := m.st.CreateConnectSession(ctx, store.ConnectSession{TenantID: s.TenantID, ID: s.ID, Provider: s.Provider,
		ConnectionID: s.ConnectionID, AllowAccountChange: s.AllowAccountChange, ExpiresAt: exp, CreatedAt: now})
	if err != nil {
		return ConnectSession{}, fmt.Errorf("connect session: %w", err)
	}
	tok := m.signSession(s)
	return ConnectSession{Token: tok, URL: m.ConnectURL(tok), ExpiresAt: exp}, nil
}

func checkReturnURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ErrBadReturnURL
	}
	return nil
}

// Connection returns a tenant's connection (its Secret is sealed).
func (m *Manager) Connection(ctx context.Context, tenantID, connectionID string) (store.Connection, error) {
	c, err := m.st.GetConnection(ctx, tenantID, connectionID)
	if err != nil {
		return store.Connection{}, fmt.Errorf("loading connection: %w", err)
	}
	return c, nil
}

// SessionKeyFromMaster derives the connect session signing key from the
// master key (HKDF-SHA256 with its own label), so every process of a
// deployment signs alike without another secret to configure, and the key
// that signs links is never the key that wraps data keys.
func SessionKeyFromMaster(masterKey []byte) ([]byte, error) {
	if len(masterKey) < 32 {
		return nil, errors.New("oauth: master key must be at least 32 bytes")
	}
	k, err := hkdf.Key(sha256.New, masterKey, nil, "accord connect session signing key v1", 32)
	if err != nil {
		return nil, fmt.Errorf("oauth: deriving session key: %w", err)
	}
	return k, nil
}

// ReconnectURL is a link an admin can open to reconnect an authorization
// code connection: signed, single use (consumed when the sign-in starts,
// cancelled by a disconnect), valid for ttl, landing on the provider's
// consent page. Other kinds have no browser flow: ErrNotBrowserFlow.
func (m *Manager) ReconnectURL(ctx context.Context, tenantID, connectionID string, ttl time.Duration) (string, error) {
	s, err := m.CreateReconnectSession(ctx, tenantID, connectionID, "", ttl, false)
	if err != nil {
		return "", err
	}
	return s.URL, nil
}
