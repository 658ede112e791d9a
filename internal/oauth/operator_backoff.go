package oauth

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/accordhq/accord/internal/connector"
)

// maxOperatorBackoff caps the wait between token calls to a provider whose
// endpoint refuses Accord's client or fails.
const maxOperatorBackoff = 5 * time.Minute

// operatorBackoff holds, per provider, when its token endpoint may be
// called again after an operator-side failure. One refused client secret
// must not turn every tenant's job into a token call.
type operatorBackoff struct {
	mu    sync.Mutex
	state map[string]backoffState
}

type backoffState struct {
	until time.Time
	wait  time.Duration
}

// check returns an error matching connector.ErrAuthUnavailable while the
// provider is backed off.
func (b *operatorBackoff) check(provider string, now time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if st, ok := b.state[provider]; ok && now.Before(st.until) {
		return fmt.Errorf("token endpoint of %s is backed off until %s after an operator-side failure: %w",
			provider, st.until.UTC().Format(time.RFC3339), connector.ErrAuthUnavailable)
	}
	return nil
}

// failed records a failure and reports whether it starts an outage (the
// first since the last success): the one that alerts.
func (b *operatorBackoff) failed(provider string, now time.Time, first time.Duration) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == nil {
		b.state = make(map[string]backoffState)
	}
	st, ok := b.state[provider]
	if !ok {
		st.wait = first
	} else {
		st.wait = min(2*st.wait, maxOperatorBackoff)
	}
	st.until = now.Add(st.wait)
	b.state[provider] = st
	return !ok
}

func (b *operatorBackoff) succeeded(provider string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.state, provider)
}

// operatorFailed backs the provider off and, once per outage, alerts the
// operator.
func (m *Manager) operatorFailed(ctx context.Context, p *ProviderConfig, te *TokenError) {
	now := m.cfg.Now()
	if !m.operator.failed(p.Name, now, m.cfg.OperatorBackoff) {
		return
	}
	msg := operatorMessage(p, te)
	m.cfg.Logger.ErrorContext(ctx, "token endpoint refused Accord's client or failed; tenants' connections stay active",
		"provider", p.Name, "status", te.StatusCode, "error_code", te.Code, "error", te)
	m.cfg.OnOperatorAlert(ctx, OperatorAlert{Provider: p.Name, StatusCode: te.StatusCode, Code: te.Code, Message: msg, At: now})
}

func operatorMessage(p *ProviderConfig, te *TokenError) string {
	switch {
	case te.Code == "invalid_client" || te.Code == "unauthorized_client" || te.StatusCode == 401:
		return fmt.Sprintf("%s: %s. Check the OAuth client id and secret (client_id_env, client_secret_env) and the client authentication method (%s); tenants do not need to reconnect.",
			p.displayName(), te.Error(), p.clientAuthName())
	case te.StatusCode >= 500:
		return fmt.Sprintf("%s: %s. The provider's token endpoint is failing; Accord retries with backoff and tenants do not need to reconnect.", p.displayName(), te.Error())
	default:
		return fmt.Sprintf("%s: %s. Accord retries with backoff; tenants do not need to reconnect.", p.displayName(), te.Error())
	}
}

// clientAuthName is the client authentication method, as a manifest would
// name it.
func (p *ProviderConfig) clientAuthName() string {
	switch p.ClientAuth {
	case "", ClientSecretAuto:
		return "client_secret_basic, then client_secret_post"
	default:
		return string(p.ClientAuth)
	}
}
