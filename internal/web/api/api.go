package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/access"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/telemetry"
	"github.com/accordhq/accord/internal/web/status"
)

//go:embed openapi.json
var openAPIDoc []byte

// Queue is the part of the job queue the API uses.
type Queue interface {
	InsertTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, error)
}

// Deps are the API's collaborators.
type Deps struct {
	Store  store.Store
	Queue  Queue
	Vault  *credential.Vault
	Logger *slog.Logger
	// Providers and Contracts are the loaded catalog: Contracts holds the
	// newest version of each, what a new installation gets.
	Providers map[string]*spec.Provider
	Contracts map[string]*spec.Contract
	// Versions holds every loaded version of each contract (name, then
	// version); installations stay on theirs until upgraded. Nil: only
	// Contracts' versions are known.
	Versions map[string]map[string]*spec.Contract
	// CompareVersions orders contract versions; nil compares them as text.
	CompareVersions func(a, b string) int
	// Token is the deployment's admin token (admin_token): an admin. Empty:
	// only API tokens stored with POST /api/v1/tokens authenticate.
	Token string
	// Signer signs tenant links (POST /api/v1/tenants/{tenant}/ui-links);
	// nil: that route answers 501.
	Signer *access.Signer
	// PublicURL is the externally visible base URL put in front of a
	// tenant link's path; empty: the answer carries the path only.
	PublicURL string
	// Now is the clock for token expiry and links; default time.Now.
	Now func() time.Time
	// Status judges partners for GET /api/v1/status; nil reports none
	// degraded.
	Status *status.Monitor
	// Extra routes other packages add under /api/v1 (connect sessions…),
	// behind the same authentication.
	Extra map[string]http.Handler
	// OnConnectionResumed, when set, is called after a retry lifted a
	// connection's pause (missing_scopes back to active), so the engine can
	// run the work still waiting on that connection now rather than on its
	// next pause tick. Nil: that work waits for its tick.
	OnConnectionResumed func(ctx context.Context, c store.Connection)
	// OnConnectionChanged, when set, is called after a change to a
	// connection's secrets or settings committed (a webhook-secret
	// rotation, a settings edit), so the ingress and the engine read it
	// afresh at once. Nil: they see it within their caches' few seconds.
	OnConnectionChanged func(ctx context.Context, c store.Connection)
	// Uninstaller starts uninstalls; nil answers 501.
	Uninstaller Uninstaller
	// Webhooks registers partner-side webhook subscriptions at install,
	// for providers that declare webhooks.registration; nil: none are
	// registered (admins register the hook URL by hand).
	Webhooks WebhookRegistrar
	// Notifier manages notification endpoints and REST hooks; nil answers
	// 501.
	Notifier Notifier
	// Syncer runs scheduled syncs on demand; nil answers 501.
	Syncer Syncer
	// Rollout is the rollout stage the packs recommend per contract, and
	// EventRetention how long delivered events are kept (0: the
	// default), for the catalog.
	Rollout        map[string]string
	EventRetention time.Duration
}

// API serves /api/v1/.
type API struct {
	deps Deps
	mux  *http.ServeMux
	auth *access.Authenticator
}

// New builds the API.
func New(deps Deps) *API {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	a := &API{deps: deps, mux: http.NewServeMux(),
		auth: &access.Authenticator{Store: deps.Store, AdminToken: deps.Token, Now: deps.Now}}
	a.routes()
	return a
}

// Routes returns the ServeMux patterns to mount on the root mux.
func (a *API) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /api/v1/openapi.json": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(openAPIDoc)
		}),
		"/api/v1/": a.authenticated(a.mux),
	}
}

func (a *API) handle(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
	a.mux.Handle(pattern, a.authorized(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})))
}

func (a *API) routes() {
	a.handle("POST /api/v1/tenants", a.createTenant)
	a.handle("GET /api/v1/tenants", a.listTenants)
	a.handle("GET /api/v1/tenants/{tenant}", a.getTenant)
	a.handle("POST /api/v1/tenants/{tenant}/connections", a.createConnection)
	a.handle("GET /api/v1/tenants/{tenant}/connections", a.listConnections)
	a.handle("GET /api/v1/tenants/{tenant}/connections/{id}", a.getConnection)
	a.handle("PATCH /api/v1/tenants/{tenant}/connections/{id}/settings", a.patchConnectionSettings)
	a.handle("PUT /api/v1/tenants/{tenant}/connections/{id}/webhook-secret", a.setWebhookSecret)
	a.handle("DELETE /api/v1/tenants/{tenant}/connections/{id}/webhook-secret/previous", a.retirePreviousWebhookSecret)
	a.handle("POST /api/v1/tenants/{tenant}/installations", a.createInstallation)
	a.handle("GET /api/v1/tenants/{tenant}/installations", a.listInstallations)
	a.handle("GET /api/v1/tenants/{tenant}/installations/{id}", a.getInstallation)
	a.handle("POST /api/v1/tenants/{tenant}/installations/{id}/pause", a.setInstallationState(store.InstallationPaused))
	a.handle("POST /api/v1/tenants/{tenant}/installations/{id}/resume", a.setInstallationState(store.InstallationActive))
	a.handle("POST /api/v1/tenants/{tenant}/installations/{id}/upgrade", a.upgradeInstallation)
	a.handle("GET /api/v1/tenants/{tenant}/installations/{id}/overrides", a.getOverrides)
	a.handle("PUT /api/v1/tenants/{tenant}/installations/{id}/overrides", a.putOverrides)
	a.handle("POST /api/v1/tenants/{tenant}/installations/{id}/uninstall", a.startUninstall)
	a.handle("GET /api/v1/tenants/{tenant}/installations/{id}/uninstall", a.getUninstall)
	a.handle("POST /api/v1/tenants/{tenant}/installations/{id}/sync", a.startSync)
	a.handle("GET /api/v1/tenants/{tenant}/installations/{id}/sync", a.getSync)
	a.handle("POST /api/v1/tenants/{tenant}/installations/{id}/sync/test", a.testSync)
	a.handle("POST /api/v1/tenants/{tenant}/installations/{id}/reconcile", a.startReconcile)
	a.handle("GET /api/v1/tenants/{tenant}/installations/{id}/reconcile", a.getReconcile)
	a.handle("POST /api/v1/tenants/{tenant}/notification-endpoints", a.createNotifyEndpoint)
	a.handle("GET /api/v1/tenants/{tenant}/notification-endpoints", a.listNotifyEndpoints)
	a.handle("DELETE /api/v1/tenants/{tenant}/notification-endpoints/{id}", a.deleteNotifyEndpoint)
	a.handle("POST /api/v1/tenants/{tenant}/notification-endpoints/{id}/rotate-secret", a.rotateNotifySecret)
	a.handle("GET /api/v1/tenants/{tenant}/notification-endpoints/{id}/deliveries", a.listNotifyDeliveries)
	a.handle("GET /api/v1/catalog", a.catalog)
	a.handle("POST /api/v1/hooks", a.subscribeRESTHook)
	a.handle("DELETE /api/v1/hooks/{id}", a.unsubscribeRESTHook)
	a.handle("GET /api/v1/hooks/events", a.restHookEvents)
	a.handle("GET /api/v1/hooks/samples/{event}", a.restHookSample)
	a.handle("GET /api/v1/tenants/{tenant}/record-errors", a.listRecordErrors)
	a.handle("GET /api/v1/tenants/{tenant}/record-errors/{id}", a.getRecordError)
	a.handle("POST /api/v1/tenants/{tenant}/record-errors/{id}/retry", a.retryRecordError)
	a.handle("POST /api/v1/record-errors/{id}/retry", a.retryRecordError)
	a.handle("GET /api/v1/providers", a.listProviders)
	a.handle("GET /api/v1/contracts", a.listContracts)
	a.handle("POST /api/v1/tokens", a.createToken)
	a.handle("GET /api/v1/tokens", a.listTokens)
	a.handle("DELETE /api/v1/tokens/{id}", a.revokeToken)
	a.handle("POST /api/v1/tenants/{tenant}/ui-links", a.createUILink)
	a.handle("GET /api/v1/status", a.partnerStatus)
	for pattern, h := range a.deps.Extra {
		a.mux.Handle(pattern, a.authorized(h))
	}
}

// authenticated admits a request carrying the admin token or a live API
// token and puts its access.Principal in the request's context; what the
// caller may do is checked per route (authorized).
func (a *API) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := bearerToken(r.Header.Get("Authorization"))
		p, err := a.auth.Authenticate(r.Context(), got)
		if err != nil {
			if !errors.Is(err, access.ErrUnauthenticated) {
				a.writeError(w, r, err)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="accord"`)
			detail := "send an API token as Authorization: Bearer <token>"
			if got != "" {
				detail = strings.TrimPrefix(err.Error(), access.ErrUnauthenticated.Error()+": ")
			}
			writeJSON(w, http.StatusUnauthorized, errorBody{Error: "unauthorized", Detail: detail, RequestID: telemetry.RequestID(r.Context())})
			return
		}
		next.ServeHTTP(w, r.WithContext(access.WithPrincipal(r.Context(), p)))
	})
}

// bearerToken reads "Authorization: Bearer <token>". The scheme is
// case-insensitive (RFC 7235 §2.1: clients and proxies send "bearer"); one
// or more spaces separate it from the token, which is returned as sent.
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	return token, token != ""
}

// Error is an API error with its HTTP status; handlers return it.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func badRequest(format string, args ...any) error {
	return &Error{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

type errorBody struct {
	Error     string `json:"error"`
	Detail    string `json:"detail,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *Error
	rid := telemetry.RequestID(r.Context())
	switch {
	case errors.As(err, &ae):
		writeJSON(w, ae.Status, errorBody{Error: http.StatusText(ae.Status), Detail: ae.Msg, RequestID: rid})
	case errors.Is(err, store.ErrNotFound):
		writeJSON(w, http.StatusNotFound, errorBody{Error: "not found", RequestID: rid})
	case errors.Is(err, store.ErrConflict):
		writeJSON(w, http.StatusConflict, errorBody{Error: "already exists", RequestID: rid})
	default:
		a.deps.Logger.ErrorContext(r.Context(), "api error", "route", r.Pattern, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "internal error", RequestID: rid})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body of at most 1 MiB, rejecting unknown fields.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("request body: %v", err)
	}
	return nil
}
