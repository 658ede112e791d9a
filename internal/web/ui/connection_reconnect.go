package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
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
	p, err := url.Parse(to)
	if err != nil || !(p.Scheme == "https" || p.Scheme == "http" || (p.Scheme == "" && strings.HasPrefix(to, "/"))) {
		return &pageError{Status: http.StatusBadGateway, Msg: "The reconnect flow returned no usable address."}
	}
	u.audit(r, v, v.Tenant, "connection.reconnect_started", conn.ID, map[string]any{"provider": conn.Provider})
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}
