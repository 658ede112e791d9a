package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/oauth"
	"github.com/accordhq/accord/internal/registration"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/telemetry"
)

// Connect session lifetimes: long enough to hand a link to an admin, short
// enough that a leaked link soon stops working.
const (
	defaultSessionTTL = 15 * time.Minute
	maxSessionTTL     = 24 * time.Hour
)

// ConnectRoutes returns the connection lifecycle routes backed by the OAuth
// manager, for Deps.Extra (they share the API's authentication):
//
//   - POST /api/v1/tenants/{tenant}/connect-sessions
//   - POST /api/v1/tenants/{tenant}/connections/oauth
//   - POST /api/v1/tenants/{tenant}/connections/{id}/reconnect
//   - POST /api/v1/tenants/{tenant}/connections/{id}/disconnect
//   - POST /api/v1/tenants/{tenant}/connections/{id}/test
func ConnectRoutes(m *oauth.Manager) map[string]http.Handler { return ConnectRoutesWith(m, nil) }

// Disconnector ends a connection after deleting its webhook subscriptions
// at the partner (registration.Registrar).
type Disconnector interface {
	Disconnect(ctx context.Context, tenantID, connectionID, actor string) (registration.DisconnectResult, error)
}

var _ Disconnector = (*registration.Registrar)(nil)

// ConnectRoutesWith is ConnectRoutes whose disconnect deletes the
// connection's partner-side webhook subscriptions first, through disc;
// nil disc: the OAuth manager disconnects (tokens only).
func ConnectRoutesWith(m *oauth.Manager, disc Disconnector) map[string]http.Handler {
	c := &connectAPI{m: m, disc: disc, log: slog.Default()}
	return map[string]http.Handler{
		"POST /api/v1/tenants/{tenant}/connect-sessions":            c.handle(c.createSession),
		"POST /api/v1/tenants/{tenant}/connections/oauth":           c.handle(c.connectOAuth),
		"POST /api/v1/tenants/{tenant}/connections/{id}/reconnect":  c.handle(c.reconnect),
		"POST /api/v1/tenants/{tenant}/connections/{id}/disconnect": c.handle(c.disconnect),
		"POST /api/v1/tenants/{tenant}/connections/{id}/test":       c.handle(c.test),
	}
}

type connectAPI struct {
	m    *oauth.Manager
	disc Disconnector
	log  *slog.Logger
}

type sessionRequest struct {
	Provider  string `json:"provider"`
	ReturnURL string `json:"return_url"`
	// TTL is a duration ("15m"); default 15 minutes, at most 24 hours.
	TTL string `json:"ttl"`
	// Settings are the new connection's non-secret settings (the
	// provider manifest's connection_settings), checked now and stored
	// on the connection the sign-in creates.
	Settings map[string]string `json:"settings,omitempty"`
}

type sessionJSON struct {
	Token     string    `json:"token"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s sessionRequest) ttl() (time.Duration, error) {
	if s.TTL == "" {
		return defaultSessionTTL, nil
	}
	d, err := spec.ParseDuration(s.TTL)
	if err != nil || d <= 0 || d > maxSessionTTL {
		return 0, badRequest("ttl %q: give a duration such as 15m, at most 24h", s.TTL)
	}
	return d, nil
}

func (c *connectAPI) createSession(w http.ResponseWriter, r *http.Request) error {
	var in sessionRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Provider == "" {
		return badRequest("provider is required")
	}
	ttl, err := in.ttl()
	if err != nil {
		return err
	}
	s, err := c.m.CreateConnectSessionWith(r.Context(), r.PathValue("tenant"), in.Provider, in.ReturnURL, ttl, in.Settings)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, sessionJSON{Token: s.Token, URL: s.URL, ExpiresAt: s.ExpiresAt})
	return nil
}

// reconnectRequest is the body of POST …/connections/{id}/reconnect. Every
// field is optional; which apply depends on the connection's auth kind.
type reconnectRequest struct {
	// Authorization code: the link's return URL and lifetime, and whether
	// the sign-in may be for another provider account than the
	// connection's.
	ReturnURL          string `json:"return_url"`
	TTL                string `json:"ttl"`
	AllowAccountChange bool   `json:"allow_account_change"`
	// API key, bearer, basic: the new secret.
	APIKey        string `json:"api_key,omitempty"`
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	WebhookSecret string `json:"webhook_secret,omitempty"`
	// Provider is refused: it is the connection's own.
	Provider string `json:"provider"`
}

type reconnectJSON struct {
	Connection Connection `json:"connection"`
	// Session is set for authorization code: send the admin's browser to
	// its URL (single use) to consent again at the provider.
	Session *sessionJSON `json:"session,omitempty"`
	// The session's fields, repeated at the top level for callers of the
	// earlier answer.
	Token     string     `json:"token,omitempty"`
	URL       string     `json:"url,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// reconnect recovers a connection in place, keeping its id so the work
// paused on it resumes: a browser link (201) for authorization code, the
// grant run again for client credentials and JWT bearer, the new secret
// for API key, bearer and basic (200).
func (c *connectAPI) reconnect(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	tenant, id := r.PathValue("tenant"), r.PathValue("id")
	var in reconnectRequest
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	if in.Provider != "" {
		return badRequest("provider is the connection's own; leave it out")
	}
	conn, err := c.m.Connection(ctx, tenant, id)
	if err != nil {
		return err
	}
	p, err := c.m.Provider(conn.Provider)
	if err != nil {
		return err
	}
	path := "POST /api/v1/tenants/" + tenant + "/connections/" + id + "/reconnect"
	static := in.APIKey != "" || in.Username != "" || in.Password != "" || in.WebhookSecret != ""
	switch p.AuthKind {
	case oauth.AuthCode:
		if static {
			return badRequest("provider %s connects through the browser: %s without api_key, username or password returns a link to its consent page", p.Name, path)
		}
		ttl, err := sessionRequest{TTL: in.TTL}.ttl()
		if err != nil {
			return err
		}
		s, err := c.m.CreateReconnectSession(ctx, tenant, id, in.ReturnURL, ttl, in.AllowAccountChange)
		if err != nil {
			return err
		}
		sj := sessionJSON{Token: s.Token, URL: s.URL, ExpiresAt: s.ExpiresAt}
		writeJSON(w, http.StatusCreated, reconnectJSON{Connection: c.toConnection(conn), Session: &sj, Token: s.Token, URL: s.URL, ExpiresAt: &sj.ExpiresAt})
		return nil
	case oauth.ClientCredentials, oauth.JWTBearer:
		if static || in.ReturnURL != "" || in.AllowAccountChange {
			return badRequest("provider %s uses the %s grant: %s with an empty body runs it again", p.Name, p.AuthKind, path)
		}
		got, err := c.m.Reconnect(ctx, tenant, id, "admin api", nil)
		if err != nil {
			return grantError(err, path)
		}
		writeJSON(w, http.StatusOK, reconnectJSON{Connection: c.toConnection(got)})
		return nil
	default:
		if in.ReturnURL != "" || in.AllowAccountChange {
			return badRequest("provider %s has no browser sign-in: %s with the new api_key (or username and password)", p.Name, path)
		}
		if p.AuthKind == oauth.Basic && in.Username == "" {
			return badRequest("provider %s uses basic auth: %s with username and password", p.Name, path)
		}
		if p.AuthKind != oauth.Basic && in.APIKey == "" {
			return badRequest("provider %s authenticates with an API key: %s with the new api_key", p.Name, path)
		}
		sec := credential.Secret{APIKey: in.APIKey, Username: in.Username, Password: in.Password}
		if in.WebhookSecret != "" {
			sec.Extra = map[string]string{WebhookSecretKey: in.WebhookSecret}
		}
		got, err := c.m.Reconnect(ctx, tenant, id, "admin api", &sec)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, reconnectJSON{Connection: c.toConnection(got)})
		return nil
	}
}

// grantError is a refused machine grant: the token endpoint's answer (never
// the secret), and what to do.
func grantError(err error, path string) error {
	var te *oauth.TokenError
	if errors.As(err, &te) {
		return &Error{Status: http.StatusBadGateway, Msg: te.Error() + "; nothing was changed. Fix the OAuth client, then " + path + " again"}
	}
	return err
}

type oauthConnectRequest struct {
	Provider string `json:"provider"`
	// Scopes the caller needs. Accord always asks for the manifest's
	// scopes; these are checked against what the provider granted.
	Scopes []string `json:"scopes"`
	// Settings are the provider's connection_settings (a subdomain, a
	// user's email): checked against the manifest, stored in clear.
	Settings map[string]string `json:"settings,omitempty"`
}

type oauthConnectionJSON struct {
	Connection
	// MissingScopes are the requested scopes the provider did not grant.
	MissingScopes []Scope `json:"missing_scopes,omitempty"`
}

// connectOAuth connects a provider whose OAuth grant needs no browser
// (client credentials, JWT bearer). The OAuth client comes from the
// environment variables the manifest names, never from the request: a
// tenant cannot point Accord's client at credentials of its choosing.
func (c *connectAPI) connectOAuth(w http.ResponseWriter, r *http.Request) error {
	var in oauthConnectRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Provider == "" {
		return badRequest("provider is required")
	}
	p, err := c.m.Provider(in.Provider)
	if err != nil {
		return err
	}
	switch p.AuthKind {
	case oauth.ClientCredentials, oauth.JWTBearer:
	case oauth.AuthCode:
		return badRequest("provider %s connects through the browser: create a connect session with POST /api/v1/tenants/{tenant}/connect-sessions", p.Name)
	default:
		return badRequest("provider %s authenticates with %s: create the connection with POST /api/v1/tenants/{tenant}/connections (to recover an existing one, POST /api/v1/tenants/{tenant}/connections/{id}/reconnect)", p.Name, p.AuthKind)
	}
	for _, s := range in.Scopes {
		if !slices.ContainsFunc(p.Scopes, func(ps oauth.Scope) bool { return ps.Name == s }) {
			return badRequest("scope %q is not one of provider %s's scopes", s, p.Name)
		}
	}
	conn, err := c.m.ConnectWith(r.Context(), r.PathValue("tenant"), p.Name, credential.Secret{}, in.Settings)
	if err != nil {
		var te *oauth.TokenError
		if errors.As(err, &te) {
			// TokenError carries the OAuth error code, never the response body
			// or the client secret.
			return &Error{Status: http.StatusBadGateway, Msg: te.Error()}
		}
		return err
	}
	out := oauthConnectionJSON{Connection: c.toConnection(conn)}
	var missing []string
	for _, s := range in.Scopes {
		if !slices.Contains(conn.GrantedScopes, s) {
			missing = append(missing, s)
		}
	}
	for _, s := range p.DescribeScopes(missing) {
		out.MissingScopes = append(out.MissingScopes, Scope{Name: s.Name, Description: s.Description})
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

type disconnectJSON struct {
	Connection Connection `json:"connection"`
	registration.DisconnectResult
}

func (c *connectAPI) disconnect(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	tenant, id := r.PathValue("tenant"), r.PathValue("id")
	var res registration.DisconnectResult
	var err error
	if c.disc != nil {
		res, err = c.disc.Disconnect(ctx, tenant, id, "admin api")
	} else {
		res.RevokedAtProvider, err = c.m.Disconnect(ctx, tenant, id, "admin api")
	}
	if err != nil {
		return err
	}
	conn, err := c.m.Connection(ctx, tenant, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, disconnectJSON{Connection: c.toConnection(conn), DisconnectResult: res})
	return nil
}

func (c *connectAPI) test(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	tenant, id := r.PathValue("tenant"), r.PathValue("id")
	conn, err := c.m.Connection(ctx, tenant, id)
	if err != nil {
		return err
	}
	p, err := c.m.Provider(conn.Provider)
	if err != nil {
		return err
	}
	if p.TestURL == "" {
		return badRequest("provider %s names no test call (auth.test in its manifest)", p.Name)
	}
	testErr := c.m.TestConnection(ctx, tenant, id)
	// The state is the one after the test: a test whose refresh was
	// refused has just moved the connection to needs_reconnect.
	if after, err := c.m.Connection(ctx, tenant, id); err == nil {
		conn = after
	}
	if testErr != nil {
		msg := TestFailure(p.DisplayName, testErr)
		var pe *connector.PartnerError
		policy := errors.As(testErr, &pe) && pe.Policy
		writeJSON(w, http.StatusBadGateway, map[string]any{"ok": false, "error": msg, "policy": policy, "state": string(conn.State)})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "state": string(conn.State)})
	return nil
}

// TestFailure is the message of a failed test call (oauth.Manager's
// TestConnection), for the admin who pressed "test" in the API or a page.
// A connection that needs reconnecting says why. The connector's messages are the partner's own (scrubbed
// of the credential sent) or the policy's remedy; a token endpoint's
// failure is a *oauth.TokenError, which is neither: it says what the
// token endpoint answered, never that the partner could not be reached.
func TestFailure(partner string, err error) string {
	if partner == "" {
		partner = "the partner"
	}
	var pe *connector.PartnerError
	var te *oauth.TokenError
	var nr *oauth.NeedsReconnectError
	switch {
	case errors.As(err, &nr):
		return nr.Reason
	case errors.As(err, &te):
		return te.Error()
	case errors.As(err, &pe) && pe.Policy:
		return "not sent: " + pe.Message
	case errors.As(err, &pe) && pe.Status == 0:
		return partner + " could not be reached: " + pe.Message
	case errors.As(err, &pe):
		return fmt.Sprintf("%s answered %d (%s): %s", partner, pe.Status, pe.Class, pe.Message)
	}
	return err.Error()
}

func (c *connectAPI) toConnection(conn store.Connection) Connection {
	out := Connection{ID: conn.ID, Provider: conn.Provider, State: string(conn.State), StateReason: conn.StateReason,
		GrantedScopes: []Scope{}, Settings: conn.Settings, HookPath: "/hooks/" + conn.ID, CreatedAt: conn.CreatedAt, UpdatedAt: conn.UpdatedAt}
	p, err := c.m.Provider(conn.Provider)
	if err != nil {
		for _, s := range conn.GrantedScopes {
			out.GrantedScopes = append(out.GrantedScopes, Scope{Name: s})
		}
		return out
	}
	for _, s := range p.DescribeScopes(conn.GrantedScopes) {
		out.GrantedScopes = append(out.GrantedScopes, Scope{Name: s.Name, Description: s.Description})
	}
	return out
}

func (c *connectAPI) handle(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			c.writeError(w, r, err)
		}
	})
}

func (c *connectAPI) writeError(w http.ResponseWriter, r *http.Request, err error) {
	rid := telemetry.RequestID(r.Context())
	var ae *Error
	switch {
	case errors.As(err, &ae):
		writeJSON(w, ae.Status, errorBody{Error: http.StatusText(ae.Status), Detail: ae.Msg, RequestID: rid})
	case errors.Is(err, store.ErrNotFound):
		writeJSON(w, http.StatusNotFound, errorBody{Error: "not found", RequestID: rid})
	case errors.Is(err, spec.ErrBadSetting):
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: http.StatusText(http.StatusUnprocessableEntity),
			Detail:    "connection setting " + strings.TrimPrefix(err.Error(), spec.ErrBadSetting.Error()+": ") + "; change it and send again",
			RequestID: rid})
	case errors.Is(err, oauth.ErrUnknownProvider), errors.Is(err, oauth.ErrNotBrowserFlow), errors.Is(err, oauth.ErrBadReturnURL),
		errors.Is(err, oauth.ErrSecretRequired), errors.Is(err, oauth.ErrBrowserReconnect):
		writeJSON(w, http.StatusBadRequest, errorBody{Error: http.StatusText(http.StatusBadRequest), Detail: browserFlowHint(err), RequestID: rid})
	default:
		c.log.ErrorContext(r.Context(), "api error", "route", r.Pattern, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "internal error", RequestID: rid})
	}
}

func browserFlowHint(err error) string {
	if errors.Is(err, oauth.ErrNotBrowserFlow) {
		return err.Error() + ": create the connection with POST /api/v1/tenants/{tenant}/connections (API key, bearer, basic) or POST /api/v1/tenants/{tenant}/connections/oauth (client credentials, JWT bearer); recover an existing one with POST /api/v1/tenants/{tenant}/connections/{id}/reconnect"
	}
	return err.Error()
}
