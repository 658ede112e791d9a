package ui

import (
	"net/http"

	"github.com/accordhq/accord/internal/web/api"
)

// banners are the partner status messages for the page: on a tenant's
// pages, the degraded partners that tenant is connected to; on the
// operator's, every degraded partner.
func (u *UI) banners(r *http.Request, v *view) []string {
	degraded := u.deps.Status.Degraded()
	if len(degraded) == 0 {
		return nil
	}
	var used map[string]bool
	if v.Tenant != "" {
		conns, err := u.deps.Store.ListConnections(r.Context(), v.Tenant)
		if err != nil {
			u.deps.Logger.WarnContext(r.Context(), "ui: listing connections for the status banner failed", "err", err)
			return nil
		}
		used = map[string]bool{}
		for _, c := range conns {
			used[c.Provider] = true
		}
	} else if !v.P.AllTenants() {
		return nil
	}
	var out []string
	for _, d := range degraded {
		if used != nil && !used[d.Provider] {
			continue
		}
		out = append(out, api.StatusMessage(u.providerTitle(d.Provider)))
	}
	return out
}
