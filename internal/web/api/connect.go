package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/oauth"
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
func ConnectRoutes(m *oauth.Manager) map[string]http.Handler {
	c := &connectAPI{m: m, log: slog.Default()}
	return map[string]http.Handler{
		"POST /api/v1/tenants/{tenant}/connect-sessions":            c.handle(c.createSession),
		"POST /api/v1/tenants/{tenant}/connections/oauth":           c.handle(c.connectOAuth),
		"POST /api/v1/tenants/{tenant}/connections/{id}/reconnect":  c.handle(c.reconnect),
		"POST /api/v1/tenants/{tenant}/connections/{id}/disconnect": c.handle(c.disconnect),
		"POST /api/v1/tenants/{tenant}/connections/{id}/test":       c.handle(c.test),
	}
}

type connectAPI struct {
	m   *oauth.Manager
	log *slog.Logger
}

type sessionRequest struct {
	Provider  string `json:"provider"`
	ReturnURL string `json:"return_url"`
	// TTL is a duration ("15m"); default 15 minutes, at most 24 hours.
	TTL string `json:"ttl"`
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
	s, err := c.m.CreateConnectSession(r.Context(), r.PathValue("tenant"), in.Provider, in.ReturnURL, ttl)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, sessionJSON{Token: s.Token, URL: s.URL, ExpiresAt: s.ExpiresAt})
	return nil
}

func (c *connectAPI) reconnect(w http.ResponseWriter, r *http.Request) error {
	var in sessionRequest
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	if in.Provider != "" {
		return badRequest("provider is the connection's own; leave it out")
	}
	ttl, err := in.ttl()
	if err != nil {
		return err
	}
	s, err := c.m.CreateReconnectSession(r.Context(), r.PathValue("tenant"), r.PathValue("id"), in.ReturnURL, ttl)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, sessionJSON{Token: s.Token, URL: s.URL, ExpiresAt: s.ExpiresAt})
	return nil
}

type oauthConnectRequest struct {
	Provider string `json:"provider"`
	// Scopes the caller needs. Accord always asks for the manifest's
	// scopes; these are checked against what the provider granted.
	Scopes []string `json:"scopes"`
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
		return badRequest("provider %s authenticates with %s: create the connection with POST /api/v1/tenants/{tenant}/connections", p.Name, p.AuthKind)
	}
	for _, s := range in.Scopes {
		if !slices.ContainsFunc(p.Scopes, func(ps oauth.Scope) bool { return ps.Name == s }) {
			return badRequest("scope %q is not one of provider %s's scopes", s, p.Name)
		}
	}
	conn, err := c.m.Connect(r.Context(), r.PathValue("tenant"), p.Name, credential.Secret{})
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
	Connection        Connection `json:"connection"`
	RevokedAtProvider bool       `json:"revoked_at_provider"`
}

func (c *connectAPI) disconnect(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	tenant, id := r.PathValue("tenant"), r.PathValue("id")
	revoked, err := c.m.Disconnect(ctx, tenant, id, "admin api")
	if err != nil {
		return err
	}
	conn, err := c.m.Connection(ctx, tenant, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, disconnectJSON{Connection: c.toConnection(conn), RevokedAtProvider: revoked})
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
	if err := c.m.TestConnection(ctx, tenant, id); err != nil {
		var nr *oauth.NeedsReconnectError
		msg := testFailure(p.DisplayName, err)
		if errors.As(err, &nr) {
			msg = nr.Reason
		}
		var pe *connector.PartnerError
		policy := errors.As(err, &pe) && pe.Policy
		writeJSON(w, http.StatusBadGateway, map[string]any{"ok": false, "error": msg, "policy": policy, "state": string(conn.State)})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	return nil
}

// testFailure is the message of a failed test call, for the admin who
// pressed "test". The connector's messages are the partner's own (scrubbed
// of the credential sent) or the policy's remedy; a token endpoint's
// failure is a *oauth.TokenError, which is neither: it says what the
// token endpoint answered, never that the partner could not be reached.
func testFailure(partner string, err error) string {
	if partner == "" {
		partner = "the partner"
	}
	var pe *connector.PartnerError
	var te *oauth.TokenError
	switch {
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
		GrantedScopes: []Scope{}, HookPath: "/hooks/" + conn.ID, CreatedAt: conn.CreatedAt, UpdatedAt: conn.UpdatedAt}
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
	case errors.Is(err, oauth.ErrUnknownProvider), errors.Is(err, oauth.ErrNotBrowserFlow), errors.Is(err, oauth.ErrBadReturnURL):
		writeJSON(w, http.StatusBadRequest, errorBody{Error: http.StatusText(http.StatusBadRequest), Detail: browserFlowHint(err), RequestID: rid})
	default:
		c.log.ErrorContext(r.Context(), "api error", "route", r.Pattern, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "internal error", RequestID: rid})
	}
}

func browserFlowHint(err error) string {
	if errors.Is(err, oauth.ErrNotBrowserFlow) {
		return err.Error() + ": create the connection with POST /api/v1/tenants/{tenant}/connections instead"
	}
	return err.Error()
}
