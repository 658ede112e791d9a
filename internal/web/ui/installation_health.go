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
	// Just installed: where the trigger connections' partners must send
	// their webhooks.
	type hook struct{ Provider, URL string }
	var hooks []hook
	installed := r.URL.Query().Get("installed") != ""
	for _, ch := range h.Connections {
		if installed && ch.Trigger {
			hooks = append(hooks, hook{Provider: ch.Provider, URL: u.baseURL(r) + "/hooks/" + ch.Conn.ID})
		}
	}
	u.render(w, r, http.StatusOK, "installation", v, map[string]any{"H": h, "CanWrite": v.P.CanWrite(v.Tenant),
		"Reconnecting": r.URL.Query().Get("reconnect") != "", "Installed": installed, "Hooks": hooks})
	return nil
}
