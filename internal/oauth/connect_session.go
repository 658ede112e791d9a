package oauth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// connectSession is what a signed session token carries. The host product
// creates it through the admin API for one tenant; the browser presents it
// to /connect/start. ID names its store row, which makes it single use:
// the row is consumed when the flow starts, and deleted when the
// connection it reconnects is disconnected.
type connectSession struct {
	TenantID     string `json:"t"`
	Provider     string `json:"p"`
	ConnectionID string `json:"c,omitempty"` // reconnect
	ReturnURL    string `json:"r,omitempty"`
	ExpiresAt    int64  `json:"e"` // Unix seconds
	ID           string `json:"n"`
	// AllowAccountChange lets a reconnect land on another provider account.
	AllowAccountChange bool `json:"a,omitempty"`
	// Settings are the new connection's non-secret settings (the
	// manifest's connection_settings), checked when the link was made;
	// signed, so the browser cannot change them.
	Settings map[string]string `json:"s,omitempty"`
}

// NewConnectSession stores and signs a single-use link that lets a browser
// start connecting tenantID's account at provider within ttl; returnURL is
// where the confirmation page links back to. Send the browser to
// ConnectURL(token).
func (m *Manager) NewConnectSession(ctx context.Context, tenantID, provider, returnURL string, ttl time.Duration) (string, error) {
	s, err := m.session(ctx, connectSession{TenantID: tenantID, Provider: provider, ReturnURL: returnURL}, ttl)
	return s.Token, err
}

// NewReconnectSession is NewConnectSession for an existing connection:
// the callback updates that connection, keeping its id, so work paused on it
// resumes. The sign-in must be for the connection's provider account
// unless allowAccountChange.
func (m *Manager) NewReconnectSession(ctx context.Context, tenantID, connectionID, returnURL string, ttl time.Duration, allowAccountChange bool) (string, error) {
	c, err := m.st.GetConnection(ctx, tenantID, connectionID)
	if err != nil {
		return "", fmt.Errorf("reconnect session: %w", err)
	}
	s, err := m.session(ctx, connectSession{TenantID: tenantID, Provider: c.Provider, ConnectionID: c.ID, ReturnURL: returnURL,
		AllowAccountChange: allowAccountChange}, ttl)
	return s.Token, err
}

// ConnectURL is the /connect/start link for a session token.
func (m *Manager) ConnectURL(token string) string {
	return m.cfg.BaseURL + "/connect/start?session=" + url.QueryEscape(token)
}

func (m *Manager) signSession(s connectSession) string {
	payload, _ := json.Marshal(s)
	body := base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + base64.RawURLEncoding.EncodeToString(m.sessionMAC(body))
}

func (m *Manager) sessionMAC(body string) []byte {
	mac := hmac.New(sha256.New, m.cfg.SessionKey)
	mac.Write([]byte("accord connect session v1\x00"))
	mac.Write([]byte(body))
	return mac.Sum(nil)
}

func (m *Manager) verifySession(token string) (connectSession, error) {
	body, sig, ok := strings.Cut(token, ".")
	if !ok {
		return connectSession{}, ErrInvalidSession
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, m.sessionMAC(body)) {
		return connectSession{}, ErrInvalidSession
	}
	payload, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return connectSession{}, ErrInvalidSession
	}
	var s connectSession
	if err := json.Unmarshal(payload, &s); err != nil || s.TenantID == "" || s.Provider == "" || s.ID == "" {
		return connectSession{}, ErrInvalidSession
	}
	if !m.cfg.Now().Before(time.Unix(s.ExpiresAt, 0)) {
		return connectSession{}, fmt.Errorf("%w: expired", ErrInvalidSession)
	}
	return s, nil
}
