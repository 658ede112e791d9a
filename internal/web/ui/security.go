package ui

import (
	"context"
	"net/http"
	"strings"
)

// cspPolicy holds the two Content-Security-Policies: operator pages may
// never be framed; tenant pages may be framed by the configured origins.
// No page runs inline script or style.
type cspPolicy struct {
	operator, tenant string
}

func newCSP(frameAncestors, formTargets []string) cspPolicy {
	// form-action also governs where a form's answer redirects: a connect
	// button's POST ends at the partner's consent page, so those origins
	// (and no other) are allowed.
	// connect-src: the setup wizard's script checks the form with the
	// page's own origin.
	base := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
		"form-action " + strings.Join(append([]string{"'self'"}, formTargets...), " ") + "; base-uri 'none'; "
	ancestors := "'none'"
	if len(frameAncestors) > 0 {
		ancestors = strings.Join(frameAncestors, " ")
	}
	return cspPolicy{operator: base + "frame-ancestors 'none'", tenant: base + "frame-ancestors " + ancestors}
}

type viewKey struct{}

// secure sets the security headers, refuses cross-origin state changes,
// and reads the session into the request's view.
func (u *UI) secure(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.fail(w, r, u.viewOf(r), &pageError{Status: http.StatusForbidden, Msg: "This request came from another site and was refused."})
	}))
	inner := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		switch {
		case isTenantPath(r.URL.Path):
			h.Set("Content-Security-Policy", u.csp.tenant)
		case strings.HasPrefix(r.URL.Path, queuePath):
			// River UI's bundle sets inline styles; scripts stay its own.
			h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
			h.Set("X-Frame-Options", "DENY")
		default:
			h.Set("Content-Security-Policy", u.csp.operator)
			h.Set("X-Frame-Options", "DENY")
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if !strings.HasPrefix(r.URL.Path, "/ui/static/") {
			h.Set("Cache-Control", "no-store")
		}
		v := &view{Path: r.URL.Path, Now: u.deps.Now()}
		if !strings.HasPrefix(r.URL.Path, "/ui/static/") {
			// Assets need no session: no token lookup for them.
			var s session
			s, v.P, v.SignedIn = u.principal(r.Context(), r)
			v.CSRF = u.csrfToken(w, r, s, v.SignedIn)
		}
		inner.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), viewKey{}, v)))
	})
}

func (u *UI) viewOf(r *http.Request) *view {
	if v, ok := r.Context().Value(viewKey{}).(*view); ok {
		return v
	}
	return &view{Now: u.deps.Now(), Path: r.URL.Path}
}
