package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

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
	p, err := m.Provider(provider)
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
	c := store.Connection{
		TenantID: tenantID, ID: newConnectionID(), Provider: p.Name, State: state, StateReason: reason,
		Secret: sealed, GrantedScopes: granted, TokenExpiresAt: sec.Expiry, CreatedAt: now, UpdatedAt: now,
	}
	err = m.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateConnection(ctx, c); err != nil {
			return err
		}
		return audit(ctx, tx, c, "tenant", "connection.created", map[string]any{"granted_scopes": granted})
	})
	if err != nil {
		return store.Connection{}, fmt.Errorf("connecting %s: %w", provider, err)
	}
	m.cfg.OnStateChange(ctx, c)
	return c, nil
}

// Disconnect revokes the connection's tokens at the provider (RFC 7009)
// when it has a revocation endpoint, then wipes the secret and marks the
// connection disconnected. A failed revocation does not stop the local
// disconnect (the admin asked for it); it is logged and audited, and
// revoked reports it.
func (m *Manager) Disconnect(ctx context.Context, tenantID, connectionID, actor string) (revoked bool, err error) {
	c, p, sec, err := m.load(ctx, m.st, tenantID, connectionID)
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
	err = m.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		lc, err := tx.LockConnection(ctx, tenantID, connectionID)
		if err != nil {
			return err
		}
		lc.State, lc.StateReason, lc.Secret, lc.TokenExpiresAt = store.ConnectionDisconnected, "Disconnected by "+actor+".", nil, time.Time{}
		if err := tx.UpdateConnection(ctx, lc); err != nil {
			return err
		}
		c = lc
		return audit(ctx, tx, lc, actor, "connection.disconnected", map[string]any{"revoked_at_provider": revoked})
	})
	if err != nil {
		return false, fmt.Errorf("disconnecting: %w", err)
	}
	m.cfg.OnStateChange(ctx, c)
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
