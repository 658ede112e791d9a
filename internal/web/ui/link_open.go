package ui

import (
	"errors"
	"net/http"

	"github.com/accordhq/accord/internal/access"
	"github.com/accordhq/accord/internal/store"
)

// openLink (GET /ui/link?t=<token>) signs a tenant's admin in through a
// single-use link the host product created (POST
// /api/v1/tenants/{tenant}/ui-links): the signature and expiry are checked
// first, then the link is consumed, so a second use (or a copy) is
// refused.
func (u *UI) openLink(w http.ResponseWriter, r *http.Request, v *view) error {
	refused := &pageError{Status: http.StatusForbidden,
		Msg: "This link has expired or was already used. Open the integrations page again from your product to get a new one."}
	l, err := u.deps.Signer.OpenLink(r.URL.Query().Get("t"), u.deps.Now())
	if err != nil {
		return refused
	}
	if _, err := u.deps.Store.ConsumeUILink(r.Context(), l.TenantID, l.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return refused
		}
		return err
	}
	p := access.Principal{Role: store.RoleTenant, TenantID: l.TenantID, Actor: "link:" + l.ID}
	if err := u.startSession(w, r, p, "link", u.cfg.LinkSessionTTL); err != nil {
		return err
	}
	v.P = p
	u.audit(r, v, l.TenantID, "ui.link_used", l.ID, nil)
	http.Redirect(w, r, tenantURL(l.TenantID), http.StatusSeeOther)
	return nil
}
