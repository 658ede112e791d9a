package ui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/accordhq/accord/internal/access"
)

// showLogin is the sign-in form: paste an API token.
func (u *UI) showLogin(w http.ResponseWriter, r *http.Request, v *view) error {
	v.Title = "Sign in"
	u.render(w, r, http.StatusOK, "login", v, map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
	return nil
}

// login checks the pasted token and opens a session for it.
func (u *UI) login(w http.ResponseWriter, r *http.Request, v *view) error {
	next := safeNext(r.PostFormValue("next"))
	p, err := u.auth.Authenticate(r.Context(), strings.TrimSpace(r.PostFormValue("token")))
	if errors.Is(err, access.ErrUnauthenticated) {
		v.Title = "Sign in"
		u.render(w, r, http.StatusUnauthorized, "login", v, map[string]any{"Next": next,
			"Error": "That token was not accepted: it is unknown, revoked or expired."})
		return nil
	}
	if err != nil {
		return err
	}
	if err := u.startSession(w, r, p, "token", u.cfg.SessionTTL); err != nil {
		return err
	}
	u.deps.Logger.InfoContext(r.Context(), "ui: signed in", "actor", p.Actor, "role", string(p.Role))
	if p.TenantID != "" {
		// The audit log is per tenant: a tenant-bound sign-in is recorded
		// there; a deployment-wide one in the process log above.
		v.P = p
		u.audit(r, v, p.TenantID, "ui.signed_in", p.TokenID, nil)
	}
	if next == "" {
		next = "/ui/"
		if p.TenantID != "" {
			next = tenantURL(p.TenantID)
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// safeNext keeps a post-sign-in destination only if it is one of our own
// pages: never another host (an open redirect).
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	return next
}
