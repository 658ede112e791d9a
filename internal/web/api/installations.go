package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/accordhq/accord/internal/store"
)

// Installation is the API's view of a contract installed for a tenant.
// Connections maps each provider the contract uses to a connection id.
type Installation struct {
	ID              string            `json:"id"`
	Contract        string            `json:"contract"`
	ContractVersion string            `json:"contract_version"`
	State           string            `json:"state"`
	Connections     map[string]string `json:"connections"`
	Config          json.RawMessage   `json:"config,omitempty"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
}

// installationInput is the body of POST /api/v1/tenants/{tenant}/installations.
type installationInput struct {
	Contract    string            `json:"contract"`
	Connections map[string]string `json:"connections"`
	Config      json.RawMessage   `json:"config,omitempty"`
}

func toInstallation(in store.Installation) Installation {
	return Installation{ID: in.ID, Contract: in.Contract, ContractVersion: in.ContractVersion, State: string(in.State),
		Connections: in.Connections, Config: in.Config, CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt}
}

func (a *API) createInstallation(w http.ResponseWriter, r *http.Request) error {
	tenant := r.PathValue("tenant")
	var in installationInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c, ok := a.deps.Contracts[in.Contract]
	if !ok {
		return badRequest("contract %q is not loaded", in.Contract)
	}
	for _, p := range c.Providers {
		id, ok := in.Connections[p]
		if !ok {
			return badRequest("contract %s uses provider %s: connections.%s must name one of this tenant's %s connections", c.Name, p, p, p)
		}
		conn, err := a.deps.Store.GetConnection(r.Context(), tenant, id)
		if err != nil {
			return badRequest("connections.%s: connection %q does not exist for tenant %s", p, id, tenant)
		}
		if conn.Provider != p {
			return badRequest("connections.%s: connection %q is a %s connection", p, id, conn.Provider)
		}
	}
	now := time.Now().UTC()
	inst := store.Installation{TenantID: tenant, ID: "inst_" + uuid.NewString(), Contract: c.Name, ContractVersion: c.Version,
		State: store.InstallationActive, Connections: in.Connections, Config: in.Config, CreatedAt: now, UpdatedAt: now}
	if err := a.deps.Store.CreateInstallation(r.Context(), inst); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toInstallation(inst))
	return nil
}

func (a *API) listInstallations(w http.ResponseWriter, r *http.Request) error {
	list, err := a.deps.Store.ListInstallations(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return err
	}
	out := make([]Installation, 0, len(list))
	for _, in := range list {
		out = append(out, toInstallation(in))
	}
	writeJSON(w, http.StatusOK, map[string]any{"installations": out})
	return nil
}

func (a *API) getInstallation(w http.ResponseWriter, r *http.Request) error {
	in, err := a.deps.Store.GetInstallation(r.Context(), r.PathValue("tenant"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toInstallation(in))
	return nil
}

func (a *API) setInstallationState(state store.InstallationState) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		tenant, id := r.PathValue("tenant"), r.PathValue("id")
		if err := a.deps.Store.SetInstallationState(r.Context(), tenant, id, state); err != nil {
			return err
		}
		in, err := a.deps.Store.GetInstallation(r.Context(), tenant, id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, toInstallation(in))
		return nil
	}
}
