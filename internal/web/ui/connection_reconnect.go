package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// ErrNoBrowserReconnect is what Deps.Reconnect returns for a connection
// whose provider does not connect through the browser (an API key).
var ErrNoBrowserReconnect = errors.New("ui: the connection does not reconnect through the browser")

// reconnectConnection starts reconnecting a connection and sends the
// browser to the provider's consent page.
func (u *UI) reconnectConnection(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	conn, err := u.deps.Store.GetConnection(ctx, v.Tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	if p := u.deps.Providers[conn.Provider]; p != nil && (p.Auth.Kind == spec.AuthAPIKey || p.Auth.Kind == spec.AuthBearer || p.Auth.Kind == spec.AuthBasic) {
		return u.reconnectWithKey(w, r, v, conn, p)
	}
	if u.deps.Reconnect == nil {
		return &pageError{Status: http.StatusNotImplemented, Msg: "Reconnecting is not available on this server: use POST /api/v1/tenants/{tenant}/connections/{id}/reconnect."}
	}
	to, err := u.deps.Reconnect(ctx, v.Tenant, conn.ID, "")
	if errors.Is(err, ErrNoBrowserReconnect) {
		return &pageError{Status: http.StatusConflict, Msg: u.providerTitle(conn.Provider) +
			" does not connect through the browser: your operator gives the connection new credentials through the admin API."}
	}
	if err != nil {
		return err
	}
	if !safeRedirect(to) {
		return &pageError{Status: http.StatusBadGateway, Msg: "The reconnect flow returned no usable address."}
	}
	u.audit(r, v, v.Tenant, "connection.reconnect_started", conn.ID, map[string]any{"provider": conn.Provider})
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// reconnectWithKey gives an API-key, bearer or basic connection the new
// credentials typed into its form (shown first when the post carries
// none), in place: the connection keeps its id, so the writes held while
// it needed reconnecting resume.
func (u *UI) reconnectWithKey(w http.ResponseWriter, r *http.Request, v *view, conn store.Connection, p *spec.Provider) error {
	back := r.PostFormValue("back")
	if !strings.HasPrefix(back, tenantURL(v.Tenant)) || strings.Contains(back, "//") {
		back = tenantURL(v.Tenant)
	}
	sec := credential.Secret{APIKey: strings.TrimSpace(r.PostFormValue("api_key")), Username: r.PostFormValue("username"),
		Password: r.PostFormValue("password")}
	data := map[string]any{"Conn": conn, "Provider": u.providerTitle(conn.Provider), "Basic": p.Auth.Kind == spec.AuthBasic, "Back": back}
	v.Title = "Reconnect " + u.providerTitle(conn.Provider)
	if r.PostFormValue("submitted") == "" {
		u.render(w, r, http.StatusOK, "reconnect_key", v, data)
		return nil
	}
	if (p.Auth.Kind == spec.AuthBasic && (sec.Username == "" || sec.Password == "")) || (p.Auth.Kind != spec.AuthBasic && sec.APIKey == "") {
		data["Error"] = "Enter the new credentials of the " + u.providerTitle(conn.Provider) + " account."
		u.render(w, r, http.StatusUnprocessableEntity, "reconnect_key", v, data)
		return nil
	}
	if u.deps.ReconnectSecret == nil {
		return &pageError{Status: http.StatusNotImplemented, Msg: "Reconnecting is not available on this server: use POST /api/v1/tenants/{tenant}/connections/{id}/reconnect."}
	}
	got, err := u.deps.ReconnectSecret(r.Context(), v.Tenant, conn.ID, v.P.Actor, sec)
	if err != nil {
		return err
	}
	u.deps.Logger.InfoContext(r.Context(), "ui: connection reconnected with new credentials", "tenant_id", v.Tenant,
		"connection_id", conn.ID, "state", string(got.State))
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

// safeRedirect reports whether to is an address the browser may be sent
// to: http(s), or a path on this server.
func safeRedirect(to string) bool {
	p, err := url.Parse(to)
	return err == nil && (p.Scheme == "https" || p.Scheme == "http" || (p.Scheme == "" && strings.HasPrefix(to, "/") && !strings.HasPrefix(to, "//")))
}
