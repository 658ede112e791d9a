package oauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/accordhq/accord/internal/connection"
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
	// OnOperatorAlert is called when a token endpoint refuses Accord's own
	// client (invalid_client, unauthorized_client) or fails (5xx, no
	// answer): the operator must act, the tenants' grants are intact and
	// their connections stay active. Called at most once per provider per
	// OperatorBackoff window. Default: nothing (the failure is logged).
	OnOperatorAlert func(ctx context.Context, a OperatorAlert)
	// OperatorBackoff is the first wait after an operator-side token
	// failure before the provider's token endpoint is called again; it
	// doubles per failure up to 5 minutes and resets on success. Calls
	// meanwhile fail at once with connector.ErrAuthUnavailable. Default 2
	// seconds.
	OperatorBackoff time.Duration
	// RefreshLeaseTTL bounds how long one process may hold a connection's
	// refresh (across processes, through the store's leases) before
	// another may take over. Default 30 seconds; it must exceed the token
	// endpoint's timeout.
	RefreshLeaseTTL time.Duration
}

// OperatorAlert is an operator-side token endpoint failure. It never
// carries a secret.
type OperatorAlert struct {
	Provider   string
	StatusCode int
	Code       string // OAuth error code, when the endpoint gave one
	Message    string // plain language, with what to check
	At         time.Time
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
	if out.OnOperatorAlert == nil {
		out.OnOperatorAlert = func(context.Context, OperatorAlert) {}
	}
	if out.OperatorBackoff <= 0 {
		out.OperatorBackoff = 2 * time.Second
	}
	if out.RefreshLeaseTTL <= 0 {
		out.RefreshLeaseTTL = 30 * time.Second
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
	// life is the one writer of connection state.
	life *connection.Lifecycle
	// holder names this Manager in the store's refresh leases.
	holder string
	// operator tracks operator-side token failures per provider.
	operator operatorBackoff
}

// NewManager validates the providers and builds a Manager.
func NewManager(st store.Store, vault *credential.Vault, providers []*ProviderConfig, cfg *Config) (*Manager, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Manager{st: st, vault: vault, cfg: c, providers: make(map[string]*ProviderConfig, len(providers)),
		holder: "oauth-" + randomToken(12)}
	m.life = connection.New(st, &connection.Config{OnChange: c.OnStateChange})
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

// actorSystem is the audit actor for what Accord does on its own.
const actorSystem = connection.ActorSystem

// Lifecycle returns the connection lifecycle the Manager writes through,
// for the callers that change a connection's state themselves (the
// engine's pause, an admin's retry).
func (m *Manager) Lifecycle() *connection.Lifecycle { return m.life }

// ReportMissingScope moves a connection to missing_scopes after the
// provider refused a call for lack of scope (a 403 naming it): an admin
// removed the permission. It returns the NeedsReconnectError the caller
// should hand to the engine so writes pause.
func (m *Manager) ReportMissingScope(ctx context.Context, tenantID, connectionID, scope string) error {
	changed, _, err := m.life.Change(ctx, tenantID, connectionID, func(ctx context.Context, tx store.Tx, c *store.Connection) (*connection.Entry, error) {
		p, err := m.Provider(c.Provider)
		if err != nil {
			return nil, err
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
		return &connection.Entry{Actor: actorSystem, Action: "connection.missing_scopes", Detail: map[string]any{"scope": scope}}, nil
	})
	if err != nil {
		return fmt.Errorf("reporting missing scope: %w", err)
	}
	m.cfg.Logger.WarnContext(ctx, "connection missing scope", "tenant_id", tenantID, "connection_id", connectionID, "scope", scope)
	return needsReconnect(changed)
}
