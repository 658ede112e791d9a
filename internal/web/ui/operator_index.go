package ui

import (
	"net/http"

	"github.com/accordhq/accord/internal/store"
)

// maxTenantsListed bounds the operator's front page; a deployment with
// more tenants is searched by tenant id (/ui/t/{tenant}/).
const maxTenantsListed = 200

type tenantRow struct {
	Tenant   store.Tenant
	Installs []health
}

// operatorIndex lists every tenant with its installations' health.
func (u *UI) operatorIndex(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	ts, err := u.deps.Store.ListTenants(ctx)
	if err != nil {
		return err
	}
	more := len(ts) > maxTenantsListed
	if more {
		ts = ts[:maxTenantsListed]
	}
	rows := make([]tenantRow, 0, len(ts))
	for _, t := range ts {
		row, err := u.tenantRow(r, t)
		if err != nil {
			return err
		}
		rows = append(rows, row)
	}
	v.Title = "Integrations across tenants"
	u.render(w, r, http.StatusOK, "operator_index", v, map[string]any{"Tenants": rows, "More": more})
	return nil
}

func (u *UI) tenantRow(r *http.Request, t store.Tenant) (tenantRow, error) {
	insts, err := u.deps.Store.ListInstallations(r.Context(), t.ID)
	if err != nil {
		return tenantRow{}, err
	}
	row := tenantRow{Tenant: t}
	for _, in := range insts {
		if in.State == store.InstallationUninstalled {
			continue
		}
		h, err := u.summary(r.Context(), in)
		if err != nil {
			return tenantRow{}, err
		}
		row.Installs = append(row.Installs, h)
	}
	return row, nil
}
