package oauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/store"
)

// Config configures a Manager.
type Config struct {
	// BaseURL is Accord's external URL; the OAuth redirect URI is
	// BaseURL + "/connect/callback". Required.
	BaseURL string
	// SessionKey signs connect sessions (HMAC-SHA256). Required, at least
	// 32 bytes; every process of a deployment needs the same key.
	SessionKey []byte
	// StateTTL bounds how long a user may take at the provider's consent
	// page. Default 10 minutes.
	StateTTL time.Duration
	// RefreshSkew is how long before expiry a token is refreshed. Default
	// 1 minute.
	RefreshSkew time.Duration
	// Outbound is the address policy and timeouts of every call to a
	// provider made here: token exchange, refresh, client credentials and
	// JWT bearer grants, revocation and "test connection". They all go
	// through connector.NewHTTPClient, like the engine's writes: guarded
	// dials, no redirects, credentials set once on the request. Set
	// AllowLoopback from the process's allow_loopback_partners. Default:
	// connector's defaults (loopback, private and link-local refused).
	Outbound *connector.Config
	// Logger receives lifecycle events (never secrets). Default: discard.
	Logger *slog.Logger
	// Registerer receives accord_token_refresh_total and
	// accord_connections. Default: none (metrics are not exported).
	Registerer prometheus.Registerer
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// OnStateChange is called after a connection's state was committed
	// (connected, reconnected, needs_reconnect, missing_scopes,
	// disconnected): the engine pauses or resumes the connection's work
	// there. Default: nothing.
	OnStateChange func(ctx context.Context, c store.Connection)
}

func (c *Config) withDefaults() (Config, error) {
	if c == nil {
		return Config{}, errors.New("oauth: config is required")
	}
	out := *c
	if out.BaseURL == "" {
		return Config{}, errors.New("oauth: BaseURL is required")
	}
	out.BaseURL = strings.TrimRight(out.BaseURL, "/")
	if len(out.SessionKey) < 32 {
		return Config{}, errors.New("oauth: SessionKey must be at least 32 bytes")
	}
	if out.StateTTL <= 0 {
		out.StateTTL = 10 * time.Minute
	}
	if out.RefreshSkew <= 0 {
		out.RefreshSkew = time.Minute
	}
	if out.Outbound == nil {
		out.Outbound = &connector.Config{}
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.OnStateChange == nil {
		out.OnStateChange = func(context.Context, store.Connection) {}
	}
	return out, nil
}

// Manager runs the connection lifecycle for every provider. It is safe for
// concurrent use; one per process.
type Manager struct {
	st        store.Store
	vault     *credential.Vault
	providers map[string]*ProviderConfig
	cfg       Config
	refreshMu keyedMutex
	metrics   *metrics
	handler   http.Handler
	// client carries every token, refresh and revocation request; testers
	// make each provider's test call. Both come from connector, so no
	// provider call follows a redirect or escapes the address policy.
	client  *http.Client
	testers map[string]*connector.Connector
	// clientAuth remembers, per provider name, the oauth2.AuthStyle a
	// ClientSecretAuto provider accepted.
	clientAuth sync.Map
}

// NewManager validates the providers and builds a Manager.
func NewManager(st store.Store, vault *credential.Vault, providers []*ProviderConfig, cfg *Config) (*Manager, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Manager{st: st, vault: vault, cfg: c, providers: make(map[string]*ProviderConfig, len(providers))}
	for _, p := range providers {
		if err := p.validate(); err != nil {
			return nil, fmt.Errorf("oauth: %w", err)
		}
		if _, dup := m.providers[p.Name]; dup {
			return nil, fmt.Errorf("oauth: provider %q configured twice", p.Name)
		}
		m.providers[p.Name] = p
	}
	m.metrics, err = newMetrics(c.Registerer, st)
	if err != nil {
		return nil, err
	}
	m.client = connector.NewHTTPClient(c.Outbound)
	if m.testers, err = newTesters(m.providers, c); err != nil {
		return nil, err
	}
	m.handler = m.newHandler()
	return m, nil
}

// Provider returns a provider's configuration.
func (m *Manager) Provider(name string) (*ProviderConfig, error) {
	p, ok := m.providers[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownProvider, name)
	}
	return p, nil
}

func (m *Manager) redirectURL() string { return m.cfg.BaseURL + "/connect/callback" }

// randomToken returns n random bytes, base64url: state values and ids.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newConnectionID is random and unguessable: it appears in /hooks/{id}.
func newConnectionID() string { return "conn_" + randomToken(16) }

// audit appends one audit entry inside tx. Detail must not hold secrets.
func audit(ctx context.Context, q store.Queries, c store.Connection, actor, action string, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	detail["provider"] = c.Provider
	detail["state"] = string(c.State)
	raw, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("audit detail: %w", err)
	}
	_, err = q.AppendAudit(ctx, store.AuditEntry{
		TenantID: c.TenantID,
		Actor:    actor,
		Action:   action,
		Subject:  c.ID,
		Detail:   raw,
	})
	if err != nil {
		return fmt.Errorf("appending audit: %w", err)
	}
	return nil
}

// actorSystem is the audit actor for what Accord does on its own.
const actorSystem = "accord"

// ReportMissingScope moves a connection to missing_scopes after the
// provider refused a call for lack of scope (a 403 naming it): an admin
// removed the permission. It returns the NeedsReconnectError the caller
// should hand to the engine so writes pause.
func (m *Manager) ReportMissingScope(ctx context.Context, tenantID, connectionID, scope string) error {
	var changed store.Connection
	err := m.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		c, err := tx.LockConnection(ctx, tenantID, connectionID)
		if err != nil {
			return err
		}
		p, err := m.Provider(c.Provider)
		if err != nil {
			return err
		}
		granted := make([]string, 0, len(c.GrantedScopes))
		for _, g := range c.GrantedScopes {
			if g != scope {
				granted = append(granted, g)
			}
		}
		missing := p.missingScopes(granted)
		if len(missing) == 0 {
			missing = p.DescribeScopes([]string{scope})
		}
		c.GrantedScopes = granted
		c.State = store.ConnectionMissingScopes
		c.StateReason = missingReason(missing)
		if err := tx.UpdateConnection(ctx, c); err != nil {
			return err
		}
		changed = c
		return audit(ctx, tx, c, actorSystem, "connection.missing_scopes", map[string]any{"scope": scope})
	})
	if err != nil {
		return fmt.Errorf("reporting missing scope: %w", err)
	}
	m.cfg.Logger.WarnContext(ctx, "connection missing scope", "tenant_id", tenantID, "connection_id", connectionID, "scope", scope)
	m.cfg.OnStateChange(ctx, changed)
	return needsReconnect(changed)
}
