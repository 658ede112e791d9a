package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/oauth2/jwt"

	"github.com/accordhq/accord/internal/connection"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/store"
)

// Secret.Extra keys that let a tenant bring its own OAuth client for the
// client credentials and JWT bearer kinds (overriding the provider's).
const (
	ExtraClientID     = "client_id"
	ExtraClientSecret = "client_secret"
)

// TokenSource hands out one connection's credentials. It is cheap; make
// one per call site or keep one per connection.
type TokenSource struct {
	m                      *Manager
	tenantID, connectionID string
}

// TokenSource returns the token source of a connection.
func (m *Manager) TokenSource(tenantID, connectionID string) *TokenSource {
	return &TokenSource{m: m, tenantID: tenantID, connectionID: connectionID}
}

// Token returns the connection's credentials, refreshing an OAuth access
// token that expires within RefreshSkew. A connection that is not active
// yields a *NeedsReconnectError (pause, do not fail).
func (ts *TokenSource) Token(ctx context.Context) (credential.Secret, error) {
	return ts.m.obtain(ctx, ts.tenantID, ts.connectionID, "", false)
}

// ForceRefresh is called after the provider answered 401 to rejected (the
// access token that was sent). If the stored token already differs (another
// caller refreshed meanwhile) it is returned without a refresh; otherwise
// exactly one refresh runs per connection, however many callers ask at once
// and in however many processes.
func (ts *TokenSource) ForceRefresh(ctx context.Context, rejected string) (credential.Secret, error) {
	return ts.m.obtain(ctx, ts.tenantID, ts.connectionID, rejected, true)
}

func (m *Manager) obtain(ctx context.Context, tenantID, connID, rejected string, force bool) (credential.Secret, error) {
	c, p, sec, err := m.load(ctx, m.st, tenantID, connID)
	if err != nil {
		return credential.Secret{}, err
	}
	if c.State != store.ConnectionActive {
		return credential.Secret{}, needsReconnect(c)
	}
	if !m.needsRefresh(p, sec, rejected, force) {
		if force {
			m.metrics.refresh.WithLabelValues(outcomeReused).Inc()
		}
		return sec, nil
	}
	// One caller per connection in this process; across processes, the
	// store's lease.
	unlock := m.refreshMu.lock(tenantID + "\x00" + connID)
	defer unlock()
	return m.refreshShared(ctx, tenantID, connID, rejected, force, c.Version)
}

// refreshShared makes at most one refresh of a connection at a time,
// however many processes share the database, without holding a
// transaction across the token call: the refresher takes the connection's
// refresh lease, re-reads the row, refreshes, and stores the result only
// if the row is still at the version it read (SwapConnection). A process
// that does not get the lease re-reads instead of refreshing, until the
// stored token is new (or the connection paused). With rotating refresh
// tokens, a second refresh from the same token makes providers revoke the
// whole token family: this is what prevents it.
//
// seen is the row version the caller decided from: a caller that names no
// rejected token takes any newer row as the refresh it asked for.
func (m *Manager) refreshShared(ctx context.Context, tenantID, connID, rejected string, force bool, seen int64) (credential.Secret, error) {
	key := "oauth-refresh:" + connID
	wait := 5 * time.Millisecond
	for {
		got, err := m.st.AcquireLease(ctx, tenantID, key, m.holder, m.cfg.RefreshLeaseTTL)
		if err != nil {
			return credential.Secret{}, fmt.Errorf("refreshing token: taking the refresh lease: %w", err)
		}
		if got {
			sec, retry, err := m.refreshHeld(ctx, tenantID, connID, rejected, force, seen)
			// Released on every path: a held lease would stall the other
			// processes until its TTL.
			if rerr := m.st.ReleaseLease(context.WithoutCancel(ctx), tenantID, key, m.holder); rerr != nil {
				m.cfg.Logger.WarnContext(ctx, "releasing refresh lease", "tenant_id", tenantID, "connection_id", connID, "error", rerr)
			}
			if !retry {
				return sec, err
			}
			continue
		}
		// Another process is refreshing: wait for its result.
		c, p, sec, err := m.load(ctx, m.st, tenantID, connID)
		if err != nil {
			return credential.Secret{}, err
		}
		if c.State != store.ConnectionActive {
			return credential.Secret{}, needsReconnect(c)
		}
		if !m.needsRefresh(p, sec, rejected, force) || (force && rejected == "" && c.Version != seen) {
			m.metrics.refresh.WithLabelValues(outcomeReused).Inc()
			return sec, nil
		}
		select {
		case <-ctx.Done():
			return credential.Secret{}, fmt.Errorf("refreshing token: waiting for another process's refresh: %w", ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// refreshHeld runs under the refresh lease. retry says the row changed
// between the read and the write (a pause, a reconnect): read it again.
func (m *Manager) refreshHeld(ctx context.Context, tenantID, connID, rejected string, force bool, seen int64) (_ credential.Secret, retry bool, _ error) {
	c, p, sec, err := m.load(ctx, m.st, tenantID, connID)
	if err != nil {
		return credential.Secret{}, false, err
	}
	if c.State != store.ConnectionActive {
		return credential.Secret{}, false, needsReconnect(c)
	}
	if !m.needsRefresh(p, sec, rejected, force) || (force && rejected == "" && c.Version != seen) {
		m.metrics.refresh.WithLabelValues(outcomeReused).Inc()
		return sec, false, nil
	}
	if err := m.operator.check(p.Name, m.cfg.Now()); err != nil {
		m.metrics.refresh.WithLabelValues(outcomeError).Inc()
		return credential.Secret{}, false, err
	}
	newSec, granted, ferr := m.fetchToken(ctx, p, sec)
	if ferr != nil {
		return credential.Secret{}, false, m.refreshFailed(ctx, c, p, ferr)
	}
	m.operator.succeeded(p.Name)

	sealed, err := m.vault.SealSecret(ctx, c.TenantID, newSec)
	if err != nil {
		return credential.Secret{}, false, fmt.Errorf("refreshing token: %w", err)
	}
	prev := c.State
	c.Secret, c.TokenExpiresAt = sealed, newSec.Expiry
	var entry *connection.Entry
	var outErr error
	if granted != nil {
		c.GrantedScopes = granted
		if missing := p.missingScopes(granted); len(missing) > 0 {
			c.State, c.StateReason = store.ConnectionMissingScopes, missingReason(missing)
			entry = &connection.Entry{Actor: actorSystem, Action: "connection.missing_scopes"}
			outErr = needsReconnect(c)
		}
	}
	ok, err := m.life.Swap(ctx, c, prev, entry)
	if err != nil {
		return credential.Secret{}, false, fmt.Errorf("refreshing token: %w", err)
	}
	if !ok {
		m.cfg.Logger.InfoContext(ctx, "connection changed during refresh; reading it again", "tenant_id", tenantID, "connection_id", connID)
		return credential.Secret{}, true, nil
	}
	m.metrics.refresh.WithLabelValues(outcomeRefreshed).Inc()
	if outErr != nil {
		return credential.Secret{}, false, outErr
	}
	return newSec, false, nil
}

// refreshFailed decides what a failed token call means. Only the tenant's
// grant being refused (invalid_grant: revoked, expired, reused) moves the
// connection to needs_reconnect. Accord's own client refused, or the
// endpoint failing, is the operator's to fix: an operator alert, a backoff
// for the provider, and an error matching connector.ErrAuthUnavailable so
// the caller retries; the connection stays active and its grant intact.
func (m *Manager) refreshFailed(ctx context.Context, c store.Connection, p *ProviderConfig, ferr error) error {
	var te *TokenError
	if errors.As(ferr, &te) && te.revokesGrant() {
		m.metrics.refresh.WithLabelValues(outcomeNeedsReconnect).Inc()
		paused, _, err := m.life.Pause(ctx, c.TenantID, c.ID, store.ConnectionNeedsReconnect, te.reason(p.displayName()),
			connection.Entry{Actor: actorSystem, Action: "connection.needs_reconnect", Detail: map[string]any{"error_code": te.Code}}, nil)
		if err != nil {
			return fmt.Errorf("refreshing token: %w", err)
		}
		m.cfg.Logger.WarnContext(ctx, "connection needs attention", "tenant_id", c.TenantID,
			"connection_id", c.ID, "provider", c.Provider, "state", string(paused.State))
		return needsReconnect(paused)
	}
	m.metrics.refresh.WithLabelValues(outcomeError).Inc()
	if te != nil && te.operatorSide() {
		m.operatorFailed(ctx, p, te)
	}
	return fmt.Errorf("refreshing token: %w", ferr)
}

func (m *Manager) needsRefresh(p *ProviderConfig, sec credential.Secret, rejected string, force bool) bool {
	if !p.usesOAuth() {
		return false
	}
	if force {
		// The token that failed is no longer stored: someone refreshed.
		return rejected == "" || rejected == sec.AccessToken
	}
	if sec.AccessToken == "" {
		return true
	}
	return !sec.Expiry.IsZero() && !m.cfg.Now().Add(m.cfg.RefreshSkew).Before(sec.Expiry)
}

func (m *Manager) load(ctx context.Context, q store.Queries, tenantID, connID string) (store.Connection, *ProviderConfig, credential.Secret, error) {
	c, err := q.GetConnection(ctx, tenantID, connID)
	if err != nil {
		return store.Connection{}, nil, credential.Secret{}, fmt.Errorf("loading connection: %w", err)
	}
	return m.openConnection(ctx, c)
}

func (m *Manager) openConnection(ctx context.Context, c store.Connection) (store.Connection, *ProviderConfig, credential.Secret, error) {
	p, err := m.Provider(c.Provider)
	if err != nil {
		return c, nil, credential.Secret{}, err
	}
	sec, err := m.vault.OpenSecret(ctx, c.TenantID, c.Secret)
	if err != nil {
		return c, nil, credential.Secret{}, fmt.Errorf("opening connection secret: %w", err)
	}
	return c, p, sec, nil
}

// fetchToken gets a new access token with x/oauth2. granted is nil when the
// provider did not say which scopes it granted.
func (m *Manager) fetchToken(ctx context.Context, p *ProviderConfig, sec credential.Secret) (credential.Secret, []string, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, m.client)
	var (
		tok *oauth2.Token
		err error
	)
	switch p.AuthKind {
	case AuthCode:
		if sec.RefreshToken == "" {
			return credential.Secret{}, nil, &TokenError{Provider: p.Name, Code: "invalid_grant"}
		}
		// The x/oauth2 refresher keeps the old refresh token when the
		// response carries none, and returns the rotated one when it does.
		err = m.withClientAuth(p, func(style oauth2.AuthStyle) error {
			var err error
			tok, err = p.oauth2Config(m.redirectURL(), style).TokenSource(ctx, &oauth2.Token{RefreshToken: sec.RefreshToken}).Token()
			return err
		})
	case ClientCredentials:
		var cc *clientcredentials.Config
		cc, err = p.clientCredentials(sec, m.cfg.Now())
		if err == nil {
			err = m.withClientAuth(p, func(style oauth2.AuthStyle) error {
				var err error
				cc.AuthStyle = style
				tok, err = cc.Token(ctx)
				return err
			})
		}
	case JWTBearer:
		tok, err = p.jwtBearer(sec).TokenSource(ctx).Token()
	default:
		return sec, nil, nil
	}
	if err != nil {
		return credential.Secret{}, nil, tokenError(p.Name, err, p.ClientSecret, sec.RefreshToken, sec.Extra[ExtraClientSecret])
	}
	out := credential.Secret{
		AccessToken:  tok.AccessToken,
		RefreshToken: tok.RefreshToken,
		TokenType:    tok.Type(),
		Expiry:       tok.Expiry,
		Extra:        sec.Extra,
	}
	var granted []string
	if raw, ok := tok.Extra("scope").(string); ok && raw != "" {
		granted = grantedScopes(tok, nil)
	}
	return out, granted, nil
}

// tokenError converts an x/oauth2 error without keeping its text, which
// quotes the whole response body. What is kept is what an admin needs: the
// status, the OAuth error code, the provider's error_description (with any
// secret sent on the request redacted), the Location of a redirect that
// was not followed, and a transport error (the address policy's refusal
// names the setting to change).
func tokenError(provider string, err error, secrets ...string) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		te := &TokenError{Provider: provider, Code: re.ErrorCode, Description: sanitizeDescription(re.ErrorDescription, secrets)}
		if re.Response != nil {
			te.StatusCode = re.Response.StatusCode
			if te.StatusCode >= 300 && te.StatusCode < 400 {
				te.Location = sanitizeDescription(re.Response.Header.Get("Location"), secrets)
			}
		}
		return te
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return &TokenError{Provider: provider, Err: ue.Err}
	}
	return &TokenError{Provider: provider, Err: errors.New("token request failed")}
}

// clientCredentials builds the x/oauth2 client credentials config; with
// private_key_jwt it signs a fresh client assertion (RFC 7523 §2.2).
func (p *ProviderConfig) clientCredentials(sec credential.Secret, now time.Time) (*clientcredentials.Config, error) {
	id, secret := p.ClientID, p.ClientSecret
	if v := sec.Extra[ExtraClientID]; v != "" {
		id, secret = v, sec.Extra[ExtraClientSecret]
	}
	params := url.Values{}
	for k, v := range p.TokenParams {
		params.Set(k, v)
	}
	if p.ClientAuth == PrivateKeyJWT {
		assertion, err := p.clientAssertion(id, now)
		if err != nil {
			return nil, err
		}
		params.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		params.Set("client_assertion", assertion)
		params.Set("client_id", id)
		secret = ""
	}
	return &clientcredentials.Config{
		ClientID:       id,
		ClientSecret:   secret,
		TokenURL:       p.TokenURL,
		Scopes:         p.scopeNames(),
		EndpointParams: params,
		AuthStyle:      p.authStyle(),
	}, nil
}

// jwtBearer builds the x/oauth2 RFC 7523 JWT bearer grant config.
func (p *ProviderConfig) jwtBearer(sec credential.Secret) *jwt.Config {
	iss := p.ClientID
	if v := sec.Extra[ExtraClientID]; v != "" {
		iss = v
	}
	sub := p.Subject
	if sub == "" {
		sub = iss
	}
	return &jwt.Config{
		Email:        iss,
		Subject:      sub,
		PrivateKey:   p.PrivateKeyPEM,
		PrivateKeyID: p.KeyID,
		Scopes:       p.scopeNames(),
		TokenURL:     p.TokenURL,
		Audience:     p.Audience,
	}
}
