package ui

import "net/http"

// installationHealth is the Integration Health page of one installation.
func (u *UI) installationHealth(w http.ResponseWriter, r *http.Request, v *view) error {
	inst, err := u.deps.Store.GetInstallation(r.Context(), v.Tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	h, err := u.health(r.Context(), inst, windows, true)
	if err != nil {
		return err
	}
	v.Title = h.Title
	u.render(w, r, http.StatusOK, "installation", v, map[string]any{"H": h, "CanWrite": v.P.CanWrite(v.Tenant),
		"Reconnecting": r.URL.Query().Get("reconnect") != ""})
	return nil
}
