package ui

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/accordhq/accord/internal/access"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/web/api"
)

// view is what the layout needs about the request: who is signed in, the
// CSRF token for its forms, and the tenant in the path.
type view struct {
	P        access.Principal
	SignedIn bool
	CSRF     string
	Tenant   string
	Path     string
	Now      time.Time
	// Title is the page's title (the <title> and the <h1>).
	Title string
	// Banners say which partners are degraded (see banners).
	Banners []string
}

// handler serves one page; a returned error is rendered as an error page.
type handler func(w http.ResponseWriter, r *http.Request, v *view) error

// pageError is an error page with its status and a plain-language message.
type pageError struct {
	Status int
	Msg    string
}

func (e *pageError) Error() string { return e.Msg }

func (u *UI) serve(h handler, check func(w http.ResponseWriter, r *http.Request, v *view) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := u.viewOf(r)
		v.Tenant = r.PathValue("tenant")
		if r.Method == http.MethodPost && r.URL.Path == "/ui/logout" && !v.SignedIn {
			// Signing out of a session that already ended needs no token.
			http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && !u.checkCSRF(r, v) {
			u.fail(w, r, v, &pageError{Status: http.StatusForbidden, Msg: "This form expired or did not come from this page. Go back, reload and try again."})
			return
		}
		if check != nil && !check(w, r, v) {
			return
		}
		if v.SignedIn && r.Method == http.MethodGet {
			v.Banners = u.banners(r, v)
		}
		if err := h(w, r, v); err != nil {
			u.fail(w, r, v, err)
		}
	})
}

// public pages need no sign-in (the sign-in form, tenant links, assets).
func (u *UI) public(pattern string, h handler) { u.mux.Handle(pattern, u.serve(h, nil)) }

// operator pages need a role that reaches every tenant; a tenant's admin
// is sent to its own tenant's page instead.
func (u *UI) operator(pattern string, h handler) {
	u.mux.Handle(pattern, u.serve(h, func(w http.ResponseWriter, r *http.Request, v *view) bool {
		if !u.requireSignIn(w, r, v) {
			return false
		}
		if !v.P.AllTenants() {
			if v.P.TenantID != "" {
				http.Redirect(w, r, tenantURL(v.P.TenantID), http.StatusSeeOther)
				return false
			}
			u.fail(w, r, v, &pageError{Status: http.StatusForbidden, Msg: "Your token does not reach every tenant."})
			return false
		}
		return true
	}))
}

// admin pages need an admin (tokens).
func (u *UI) admin(pattern string, h handler) {
	u.mux.Handle(pattern, u.serve(h, func(w http.ResponseWriter, r *http.Request, v *view) bool {
		if r.Method == http.MethodGet && !u.requireSignIn(w, r, v) {
			return false
		}
		if !v.P.CanManageTokens() {
			u.fail(w, r, v, &pageError{Status: http.StatusForbidden, Msg: "Only an admin manages API tokens."})
			return false
		}
		return true
	}))
}

// tenantRead pages need read access to the tenant in the path.
func (u *UI) tenantRead(pattern string, h handler) {
	u.mux.Handle(pattern, u.serve(h, func(w http.ResponseWriter, r *http.Request, v *view) bool {
		if !u.requireSignIn(w, r, v) {
			return false
		}
		if !v.P.CanRead(v.Tenant) {
			u.fail(w, r, v, &pageError{Status: http.StatusForbidden, Msg: "You are signed in for another tenant: this page is not yours to see."})
			return false
		}
		return true
	}))
}

// tenantWrite actions need write access to the tenant in the path; a
// viewer is refused with 403.
func (u *UI) tenantWrite(pattern string, h handler) {
	u.mux.Handle(pattern, u.serve(h, func(w http.ResponseWriter, r *http.Request, v *view) bool {
		if !v.SignedIn {
			u.fail(w, r, v, &pageError{Status: http.StatusUnauthorized, Msg: "Your session ended. Sign in again, then repeat the action."})
			return false
		}
		if !v.P.CanWrite(v.Tenant) {
			msg := "Your access is read-only: ask an operator to do this."
			if !v.P.CanRead(v.Tenant) {
				msg = "You are signed in for another tenant."
			}
			u.fail(w, r, v, &pageError{Status: http.StatusForbidden, Msg: msg})
			return false
		}
		return true
	}))
}

func (u *UI) requireSignIn(w http.ResponseWriter, r *http.Request, v *view) bool {
	if v.SignedIn {
		return true
	}
	http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	return false
}

// fail renders err as an error page: a pageError as it is, the store's
// not-found as 404, the API's errors with their status, anything else as
// a 500 whose detail goes to the log only.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, v *view, err error) {
	var pe *pageError
	var ae *api.Error
	switch {
	case errors.As(err, &pe):
	case errors.Is(err, store.ErrNotFound):
		pe = &pageError{Status: http.StatusNotFound, Msg: "Nothing was found here: it does not exist, or it is not yours to see."}
	case errors.As(err, &ae):
		pe = &pageError{Status: ae.Status, Msg: ae.Msg}
	default:
		u.deps.Logger.ErrorContext(r.Context(), "ui error", "route", r.Pattern, "err", err)
		pe = &pageError{Status: http.StatusInternalServerError, Msg: "Something went wrong on our side. Try again; if it persists, tell your operator."}
	}
	v.Title = http.StatusText(pe.Status)
	u.render(w, r, pe.Status, "error", v, pe)
}

func tenantURL(tenant string) string { return "/ui/t/" + url.PathEscape(tenant) + "/" }

// audit records a state change made from the UI in the tenant's log.
func (u *UI) audit(r *http.Request, v *view, tenant, action, subject string, detail map[string]any) {
	if detail == nil {
		detail = map[string]any{}
	}
	detail["via"] = "ui"
	if err := api.Audit(r.Context(), u.deps.Store, r, v.P, tenant, action, subject, detail); err != nil {
		u.deps.Logger.ErrorContext(r.Context(), "ui: writing the audit log failed", "tenant_id", tenant, "action", action, "err", err)
	}
}
