package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/accordhq/accord/internal/credential"
)

// Authorize sets the connection's credentials on an outgoing request, as
// the provider's auth kind says: a bearer token for the OAuth kinds, the
// API key in its header or query parameter, or basic auth.
func (p *ProviderConfig) Authorize(req *http.Request, sec credential.Secret) error {
	switch p.AuthKind {
	case AuthCode, ClientCredentials, JWTBearer:
		if sec.AccessToken == "" {
			return errors.New("oauth: connection has no access token")
		}
		typ := sec.TokenType
		if typ == "" || equalFoldASCII(typ, "bearer") {
			typ = "Bearer"
		}
		req.Header.Set("Authorization", typ+" "+sec.AccessToken)
	case APIKey:
		if sec.APIKey == "" {
			return errors.New("oauth: connection has no API key")
		}
		if p.APIKeyQuery != "" {
			q := req.URL.Query()
			q.Set(p.APIKeyQuery, sec.APIKey)
			req.URL.RawQuery = q.Encode()
			return nil
		}
		h := p.APIKeyHeader
		if h == "" {
			h = "Authorization"
		}
		req.Header.Set(h, p.APIKeyPrefix+sec.APIKey)
	case Basic:
		req.SetBasicAuth(sec.Username, sec.Password)
	default:
		return fmt.Errorf("oauth: unknown auth kind %q", p.AuthKind)
	}
	return nil
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

// Client returns an HTTP client that authenticates every request as the
// connection and, when the provider answers 401 to an OAuth token, refreshes
// once and retries once. A connection that needs reconnecting fails the
// request with a *NeedsReconnectError (wrapped in *url.Error), before
// anything is sent.
func (m *Manager) Client(tenantID, connectionID string) *http.Client {
	base := m.cfg.HTTPClient
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	return &http.Client{
		Transport:     &transport{m: m, ts: m.TokenSource(tenantID, connectionID), base: rt},
		Timeout:       base.Timeout,
		CheckRedirect: base.CheckRedirect,
		Jar:           base.Jar,
	}
}

type transport struct {
	m    *Manager
	ts   *TokenSource
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	sec, err := t.ts.Token(ctx)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	p, err := t.connProvider(ctx)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	r1 := req.Clone(ctx)
	if err := p.Authorize(r1, sec); err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.base.RoundTrip(r1)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !p.usesOAuth() {
		return resp, err
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, nil // cannot replay the body: let the caller retry
	}
	fresh, ferr := t.ts.ForceRefresh(ctx, sec.AccessToken)
	if ferr != nil {
		_ = resp.Body.Close()
		return nil, ferr
	}
	r2 := req.Clone(ctx)
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		r2.Body = body
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if err := p.Authorize(r2, fresh); err != nil {
		return nil, err
	}
	return t.base.RoundTrip(r2)
}

func (t *transport) connProvider(ctx context.Context) (*ProviderConfig, error) {
	c, err := t.m.st.GetConnection(ctx, t.ts.tenantID, t.ts.connectionID)
	if err != nil {
		return nil, fmt.Errorf("loading connection: %w", err)
	}
	return t.m.Provider(c.Provider)
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
