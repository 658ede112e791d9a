package ui

import "net/http"

// tenantIndex is a tenant's front page: each installation's health.
func (u *UI) tenantIndex(w http.ResponseWriter, r *http.Request, v *view) error {
	t, err := u.deps.Store.GetTenant(r.Context(), v.Tenant)
	if err != nil {
		return err
	}
	row, err := u.tenantRow(r, t)
	if err != nil {
		return err
	}
	v.Title = t.Name + ": integrations"
	u.render(w, r, http.StatusOK, "tenant_index", v, row)
	return nil
}
