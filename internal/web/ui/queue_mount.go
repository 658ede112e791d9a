package ui

import (
	"net/http"
	"net/url"
)

// queuePath is where the job queue's own UI (River UI) is mounted.
const queuePath = "/ui/queue/"

// mountQueue serves Deps.Queue at /ui/queue/ behind the pages' sign-in:
// every-tenant roles may look; only an operator or admin may change a job
// (retry, cancel, delete). River UI's own API calls carry no form token,
// so the form CSRF check is not applied here; the cross-origin protection
// around every page still refuses requests from other sites.
func (u *UI) mountQueue() {
	if u.deps.Queue == nil {
		return
	}
	u.mux.Handle(queuePath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := u.viewOf(r)
		read := r.Method == http.MethodGet || r.Method == http.MethodHead
		switch {
		case !v.SignedIn && read:
			http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		case !v.SignedIn:
			u.fail(w, r, v, &pageError{Status: http.StatusUnauthorized, Msg: "Your session ended. Sign in again."})
		case !v.P.AllTenants():
			u.fail(w, r, v, &pageError{Status: http.StatusForbidden, Msg: "The job queue spans every tenant: your token does not."})
		case !read && !v.P.CanOperate():
			u.fail(w, r, v, &pageError{Status: http.StatusForbidden, Msg: "Your access is read-only: ask an operator to change jobs."})
		default:
			u.deps.Queue.ServeHTTP(w, r)
		}
	}))
}
