package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/accordhq/accord/internal/connection"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/store"
)

// Connect creates a connection for the kinds that need no browser: client
// credentials and JWT bearer (a token is fetched now, so wrong credentials
// fail here and nothing is stored), API key and basic (stored as given;
// use TestConnection to check them). sec carries the tenant's own
// credentials: the API key, the basic username and password, or Extra
// client_id / client_secret overriding the provider's OAuth client.
func (m *Manager) Connect(ctx context.Context, tenantID, provider string, sec credential.Secret) (store.Connection, error) {
	return m.ConnectWith(ctx, tenantID, provider, sec, nil)
}

// ConnectWith is Connect with the connection's non-secret settings (the
// manifest's connection_settings), checked before any token is fetched.
func (m *Manager) ConnectWith(ctx context.Context, tenantID, provider string, sec credential.Secret, settings map[string]string) (store.Connection, error) {
	p, err := m.Provider(provider)
	if err != nil {
		return store.Connection{}, err
	}
	checked, err := p.checkSettings(settings)
	if err != nil {
		return store.Connection{}, err
	}
	var granted []string
	switch p.AuthKind {
	case AuthCode:
		return store.Connection{}, errors.New("oauth: authorization code providers connect through /connect/start")
	case ClientCredentials, JWTBearer:
		tok, g, err := m.fetchToken(ctx, p, sec)
		if err != nil {
			return store.Connection{}, fmt.Errorf("connecting %s: %w", provider, err)
		}
		sec, granted = tok, g
		if granted == nil {
			granted = p.scopeNames()
		}
	}
	state, reason := store.ConnectionActive, ""
	if missing := p.missingScopes(granted); p.usesOAuth() && len(missing) > 0 {
		state, reason = store.ConnectionMissingScopes, missingReason(missing)
	}
	sealed, err := m.vault.SealSecret(ctx, tenantID, sec)
	if err != nil {
		return store.Connection{}, fmt.Errorf("connecting %s: %w", provider, err)
	}
	now := m.cfg.Now()
	c, err := m.life.Create(ctx, store.Connection{
		TenantID: tenantID, ID: newConnectionID(), Provider: p.Name, State: state, StateReason: reason,
		Secret: sealed, GrantedScopes: granted, TokenExpiresAt: sec.Expiry, Settings: checked, CreatedAt: now, UpdatedAt: now,
	}, connection.Entry{Actor: "tenant", Action: "connection.created", Detail: map[string]any{"granted_scopes": granted}})
	if err != nil {
		return store.Connection{}, fmt.Errorf("connecting %s: %w", provider, err)
	}
	return c, nil
}

// ErrBrowserReconnect is returned by Reconnect for an authorization code
// connection: only the tenant's consent at the provider renews its grant;
// create a reconnect session (CreateReconnectSession) instead.
var ErrBrowserReconnect = errors.New("oauth: the connection reconnects through the browser")

// ErrSecretRequired is returned by Reconnect for an API key, bearer or
// basic connection given no new secret.
var ErrSecretRequired = errors.New("oauth: a new secret is required to reconnect")

// Reconnect recovers a connection in place, keeping its id so work paused
// on it resumes:
//   - client credentials and JWT bearer: the grant is run again (with the
//     tenant's own OAuth client in sec.Extra when given, else the one
//     stored); a refused grant changes nothing and returns its *TokenError;
//   - API key, bearer, basic: sec is the new secret (required); webhook
//     secrets stored with the old one are kept unless sec.Extra sets them;
//   - authorization code: ErrBrowserReconnect.
func (m *Manager) Reconnect(ctx context.Context, tenantID, connectionID, actor string, sec *credential.Secret) (store.Connection, error) {
	c, err := m.st.GetConnection(ctx, tenantID, connectionID)
	if err != nil {
		return store.Connection{}, fmt.Errorf("reconnecting: %w", err)
	}
	p, err := m.Provider(c.Provider)
	if err != nil {
		return store.Connection{}, err
	}
	var old credential.Secret
	if len(c.Secret) > 0 { // a disconnected connection's was wiped
		if old, err = m.vault.OpenSecret(ctx, tenantID, c.Secret); err != nil {
			return store.Connection{}, fmt.Errorf("reconnecting: opening connection secret: %w", err)
		}
	}
	var next credential.Secret
	var granted []string
	switch p.AuthKind {
	case AuthCode:
		return store.Connection{}, fmt.Errorf("%w: %s", ErrBrowserReconnect, p.Name)
	case ClientCredentials, JWTBearer:
		in := credential.Secret{Extra: old.Extra}
		if sec != nil && sec.Extra[ExtraClientID] != "" {
			in.Extra = mergeExtra(old.Extra, sec.Extra)
		}
		tok, g, err := m.fetchToken(ctx, p, in)
		if err != nil {
			return store.Connection{}, fmt.Errorf("reconnecting %s: %w", p.Name, err)
		}
		m.operator.succeeded(p.Name)
		next, granted = tok, g
		if granted == nil {
			granted = p.scopeNames()
		}
	default:
		if sec == nil || (sec.APIKey == "" && sec.Username == "") {
			return store.Connection{}, fmt.Errorf("%w: %s", ErrSecretRequired, p.Name)
		}
		next = *sec
		next.Extra = mergeExtra(old.Extra, sec.Extra)
		granted = c.GrantedScopes
	}
	state, reason := store.ConnectionActive, ""
	if missing := p.missingScopes(granted); p.usesOAuth() && len(missing) > 0 {
		state, reason = store.ConnectionMissingScopes, missingReason(missing)
	}
	sealed, err := m.vault.SealSecret(ctx, tenantID, next)
	if err != nil {
		return store.Connection{}, fmt.Errorf("reconnecting: %w", err)
	}
	out, err := m.life.Reconnect(ctx, tenantID, connectionID, actor, connection.Grant{
		Secret: sealed, GrantedScopes: granted, TokenExpiresAt: next.Expiry, State: state, Reason: reason,
	})
	if err != nil {
		return store.Connection{}, err
	}
	m.cfg.Logger.InfoContext(ctx, "connection reconnected in place", "tenant_id", tenantID, "connection_id", connectionID,
		"provider", p.Name, "state", string(out.State))
	return out, nil
}

func mergeExtra(old, next map[string]string) map[string]string {
	if len(old) == 0 && len(next) == 0 {
		return nil
	}
	out := make(map[string]string, len(old)+len(next))
	for k, v := range old {
		out[k] = v
	}
	for k, v := range next {
		out[k] = v
	}
	return out
}

// Disconnect revokes the connection's tokens at the provider (RFC 7009)
// when it has a revocation endpoint, then wipes the secret and marks the
// connection disconnected. A failed revocation does not stop the local
// disconnect (the admin asked for it); it is logged and audited, and
// revoked reports it.
func (m *Manager) Disconnect(ctx context.Context, tenantID, connectionID, actor string) (revoked bool, err error) {
	_, p, sec, err := m.load(ctx, m.st, tenantID, connectionID)
	if err != nil {
		return false, fmt.Errorf("disconnecting: %w", err)
	}
	var revokeErr error
	if p.RevokeURL != "" && p.usesOAuth() {
		// Revoking the refresh token ends the grant; the access token is
		// revoked too for providers that keep them independent.
		for _, t := range []struct{ token, hint string }{{sec.RefreshToken, "refresh_token"}, {sec.AccessToken, "access_token"}} {
			if t.token == "" {
				continue
			}
			if err := m.revoke(ctx, p, sec, t.token, t.hint); err != nil {
				revokeErr = err
			}
		}
		revoked = revokeErr == nil
		if revokeErr != nil {
			m.cfg.Logger.WarnContext(ctx, "token revocation failed", "tenant_id", tenantID, "connection_id", connectionID,
				"provider", p.Name, "error", revokeErr)
		}
	}
	// The row, its audit entry, and the cancelling of every open reconnect
	// link and sign-in in progress are one transaction: no link issued
	// before now can revive the connection.
	if _, err := m.life.Disconnect(ctx, tenantID, connectionID, actor, map[string]any{"revoked_at_provider": revoked}); err != nil {
		return false, err
	}
	return revoked, nil
}

// revoke is one RFC 7009 request, with the same client authentication as
// the token endpoint (for ClientSecretAuto, basic then the form body when
// refused). x/oauth2 has no revocation call.
func (m *Manager) revoke(ctx context.Context, p *ProviderConfig, sec credential.Secret, token, hint string) error {
	styles := []oauth2.AuthStyle{oauth2.AuthStyleInHeader}
	if p.ClientAuth == ClientSecretPost {
		styles = []oauth2.AuthStyle{oauth2.AuthStyleInParams}
	} else if p.ClientAuth == ClientSecretAuto {
		styles = m.revokeStyles(p)
	}
	var err error
	for _, style := range styles {
		var status int
		status, err = m.revokeOnce(ctx, p, sec, token, hint, style)
		if err == nil || !clientAuthRefused(status) {
			break
		}
	}
	return err
}

func (m *Manager) revokeOnce(ctx context.Context, p *ProviderConfig, sec credential.Secret, token, hint string, style oauth2.AuthStyle) (int, error) {
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	id, secret := p.ClientID, p.ClientSecret
	if v := sec.Extra[ExtraClientID]; v != "" {
		id, secret = v, sec.Extra[ExtraClientSecret]
	}
	if style == oauth2.AuthStyleInParams {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.RevokeURL, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, fmt.Errorf("revoking token: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if style != oauth2.AuthStyleInParams {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := m.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, fmt.Errorf("revoking token at %s: %w", p.Name, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		// Not followed: the request carries the token and our client
		// secret, and belongs to the revocation endpoint only.
		return resp.StatusCode, fmt.Errorf("revoking token at %s: status %d, redirect to %q not followed", p.Name, resp.StatusCode, sanitizeDescription(resp.Header.Get("Location"), nil))
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("revoking token at %s: status %d", p.Name, resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// TestConnection makes the provider's cheap authenticated call (TestURL)
// as the connection, through the connector like every write: the same
// address policy, no redirect followed, credentials attached once, one
// refresh after a 401. nil means the credentials work. A connection that
// cannot be used yields its *NeedsReconnectError; a call the partner or
// the address policy refused, a *connector.PartnerError (Policy set and
// errors.Is connector.ErrOutboundRefused for the latter).
func (m *Manager) TestConnection(ctx context.Context, tenantID, connectionID string) error {
	c, err := m.st.GetConnection(ctx, tenantID, connectionID)
	if err != nil {
		return fmt.Errorf("testing connection: %w", err)
	}
	p, err := m.Provider(c.Provider)
	if err != nil {
		return err
	}
	tc := m.testers[p.Name]
	if tc == nil {
		return fmt.Errorf("testing connection: provider %s names no test call", p.Name)
	}
	auth, err := m.Authorizer(ctx, c)
	if err != nil {
		return err
	}
	if err := tc.TestConnection(ctx, auth); err != nil {
		var nr *NeedsReconnectError
		if errors.As(err, &nr) {
			return nr
		}
		return fmt.Errorf("testing connection: %w", err)
	}
	return nil
}
