package api

import (
	"net/http"
	"regexp"
	"time"

	"github.com/google/uuid"

	"github.com/accordhq/accord/internal/store"
)

var tenantIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Tenant is the API's view of a tenant.
type Tenant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// tenantInput is the body of POST /api/v1/tenants; an empty ID asks the
// server to pick one.
type tenantInput struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
}

func toTenant(t store.Tenant) Tenant {
	return Tenant{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt}
}

func (a *API) createTenant(w http.ResponseWriter, r *http.Request) error {
	var in tenantInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.ID == "" {
		in.ID = "ten_" + uuid.NewString()
	}
	if !tenantIDPattern.MatchString(in.ID) {
		return badRequest("id %q: use 1–64 letters, digits, '.', '_' or '-'", in.ID)
	}
	if in.Name == "" {
		return badRequest("name is required")
	}
	t := store.Tenant{ID: in.ID, Name: in.Name, CreatedAt: time.Now().UTC()}
	if err := a.deps.Store.CreateTenant(r.Context(), t); err != nil {
		return err
	}
	a.audit(r, t.ID, "POST /tenants", "/api/v1/tenants/"+t.ID, map[string]any{"status": http.StatusCreated})
	writeJSON(w, http.StatusCreated, toTenant(t))
	return nil
}

func (a *API) listTenants(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.deps.Store.ListTenants(r.Context())
	if err != nil {
		return err
	}
	out := make([]Tenant, 0, len(ts))
	for _, t := range ts {
		out = append(out, toTenant(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenants": out})
	return nil
}

func (a *API) getTenant(w http.ResponseWriter, r *http.Request) error {
	t, err := a.deps.Store.GetTenant(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toTenant(t))
	return nil
}
