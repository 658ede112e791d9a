package ui

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/accordhq/accord/internal/access"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/web/api"
	"github.com/accordhq/accord/internal/web/status"
)

// Deps are the UI's collaborators.
type Deps struct {
	Store store.Store
	// API performs the actions the pages offer (retry), so a button and
	// its API call behave the same.
	API *api.API
	// Signer checks tenant links and signs sessions and CSRF tokens; the
	// API must sign links with the same key.
	Signer *access.Signer
	// Providers and Versions are the loaded catalog (provider name;
	// contract name, then version), for titles and explanations.
	Providers map[string]*spec.Provider
	Versions  map[string]map[string]*spec.Contract
	// Reconnect starts reconnecting a connection and returns the URL to
	// send the browser to (the provider's consent page). Nil: the page
	// explains how to reconnect through the API instead.
	Reconnect func(ctx context.Context, tenant, connectionID, returnURL string) (string, error)
	// ReconnectSecret gives an API-key, bearer or basic connection new
	// credentials in place (same id, so its held writes resume), with actor
	// in its audit entry. Nil: those connections reconnect through the API
	// only.
	ReconnectSecret func(ctx context.Context, tenant, connectionID, actor string, sec credential.Secret) (store.Connection, error)
	// ConnectBrowser starts a new connection to an OAuth (authorization
	// code) provider and returns the URL of its consent page, which sends
	// the browser back to returnURL. ErrNoBrowserReconnect: the provider
	// does not connect through the browser. Nil: the setup wizard connects
	// API-key providers only.
	ConnectBrowser func(ctx context.Context, tenant, provider, returnURL string) (string, error)
	// TestConnection makes the provider's test call as the connection; nil
	// means its credentials work. Nil: the setup wizard cannot test.
	TestConnection func(ctx context.Context, tenant, connectionID string) error
	// SendTestEvent delivers a synthetic event through one installation
	// (engine.DeliverTest). Nil: the wizard offers the dry run only.
	SendTestEvent func(ctx context.Context, inst store.Installation, eventType string, doc map[string]any) (engine.TestResult, error)
	// TestSync syncs one record of a schedule trigger through one
	// installation (engine.TestSync). Nil: the wizard offers no test sync.
	TestSync func(ctx context.Context, inst store.Installation, trigger, objectID string) (engine.TestResult, error)
	// Status judges partners across tenants; a degraded one puts a banner
	// on the pages of every tenant connected to it. Nil: no banners.
	Status *status.Monitor
	// Queue is the job queue's own UI (River UI), served at /ui/queue/
	// for every-tenant roles; nil: not mounted.
	Queue  http.Handler
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Config tunes the UI.
type Config struct {
	// AdminToken is the deployment's admin_token; pasting it signs in as an
	// admin. Empty: only API tokens sign in.
	AdminToken string
	// FrameAncestors are the origins allowed to frame tenant pages (the
	// host product embedding them), e.g. https://app.example.com. Empty
	// (the default): no page may be framed.
	FrameAncestors []string
	// ConsentOrigins are the origins of the OAuth consent pages a connect
	// or reconnect button sends the browser to (scheme://host[:port]);
	// the CSP's form-action allows them. Empty: buttons that leave the
	// site are blocked by the browser.
	ConsentOrigins []string
	// PublicURL is the externally visible base URL; when it is https the
	// session cookie is Secure even behind a TLS-terminating proxy.
	PublicURL string
	// SessionTTL is how long a token sign-in lasts; default 12h.
	SessionTTL time.Duration
	// LinkSessionTTL is how long a tenant link's session lasts; default 1h.
	LinkSessionTTL time.Duration
}

// UI serves /ui/.
type UI struct {
	deps   Deps
	cfg    Config
	pages  *templates
	assets *assets
	auth   *access.Authenticator
	mux    *http.ServeMux
	csp    cspPolicy
}

// New parses the templates and hashes the assets; an error here is a bug
// in the embedded files.
func New(deps Deps, cfg *Config) (*UI, error) {
	if deps.Store == nil || deps.API == nil || deps.Signer == nil {
		return nil, errors.New("ui: Store, API and Signer are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	c := Config{}
	if cfg != nil {
		c = *cfg
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = 12 * time.Hour
	}
	if c.LinkSessionTTL <= 0 {
		c.LinkSessionTTL = time.Hour
	}
	u := &UI{deps: deps, cfg: c, mux: http.NewServeMux(),
		auth: &access.Authenticator{Store: deps.Store, AdminToken: c.AdminToken, Now: deps.Now},
		csp:  newCSP(c.FrameAncestors, c.ConsentOrigins)}
	var err error
	if u.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if u.pages, err = parseTemplates(u.funcs()); err != nil {
		return nil, err
	}
	u.routes()
	return u, nil
}

// Routes returns the ServeMux patterns to mount on the root mux.
func (u *UI) Routes() map[string]http.Handler {
	h := u.secure(u.mux)
	return map[string]http.Handler{"/ui/": h}
}

// Handler is the whole UI, for tests that serve it alone.
func (u *UI) Handler() http.Handler { return u.secure(u.mux) }

func (u *UI) routes() {
	u.mux.Handle("GET /ui/static/{file}", u.assets)
	u.mountQueue()
	u.public("GET /ui/login", u.showLogin)
	u.public("POST /ui/login", u.login)
	u.public("POST /ui/logout", u.logout)
	u.public("GET /ui/link", u.openLink)

	u.operator("GET /ui/{$}", u.operatorIndex)
	u.tenantRead("GET /ui/t/{tenant}/{$}", u.tenantIndex)
	u.tenantRead("GET /ui/t/{tenant}/installations/{id}", u.installationHealth)
	u.tenantRead("GET /ui/t/{tenant}/record-errors", u.recordErrors)
	u.tenantRead("GET /ui/t/{tenant}/record-errors/{id}", u.recordError)
	u.tenantRead("GET /ui/t/{tenant}/record-errors/{id}/evidence.zip", u.recordErrorEvidence)
	u.tenantWrite("POST /ui/t/{tenant}/record-errors/{id}/retry", u.retryRecordError)
	u.tenantWrite("POST /ui/t/{tenant}/connections/{id}/reconnect", u.reconnectConnection)
	u.tenantWrite("POST /ui/t/{tenant}/installations/{id}/sync", u.syncInstallation)
	u.tenantWrite("POST /ui/t/{tenant}/installations/{id}/sync/test", u.testSyncRecord)
	u.tenantRead("GET /ui/t/{tenant}/setup/{$}", u.setupCatalog)
	u.tenantRead("GET /ui/t/{tenant}/setup/{contract}", u.setupStart)
	u.tenantWrite("POST /ui/t/{tenant}/setup/{contract}", u.setupStep)
	u.tenantRead("GET /ui/t/{tenant}/audit", u.auditLog)
	u.admin("GET /ui/tokens", u.tokens)
	u.admin("POST /ui/tokens", u.createToken)
	u.admin("POST /ui/tokens/{id}/revoke", u.revokeToken)
	u.mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		u.fail(w, r, u.viewOf(r), &pageError{Status: http.StatusNotFound, Msg: "There is no page here."})
	})
}

// isTenantPath reports whether path is a tenant's page (framable by the
// configured ancestors).
func isTenantPath(path string) bool {
	return strings.HasPrefix(path, "/ui/t/") || path == "/ui/link"
}
