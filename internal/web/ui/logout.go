package ui

import "net/http"

// logout ends the session.
func (u *UI) logout(w http.ResponseWriter, r *http.Request, v *view) error {
	u.endSession(w, r)
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
	return nil
}
