package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/accordhq/accord/internal/access"
	"github.com/accordhq/accord/internal/registration"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// Installation is the API's view of a contract installed for a tenant.
// Connections maps each provider the contract uses to a connection id.
type Installation struct {
	ID       string `json:"id"`
	Contract string `json:"contract"`
	// ContractVersion is the version this installation runs: the one it
	// was installed with, until POST …/upgrade.
	ContractVersion string `json:"contract_version"`
	// LatestContractVersion is the newest loaded version, what an upgrade
	// moves to; empty when the contract is not loaded at all.
	LatestContractVersion string            `json:"latest_contract_version,omitempty"`
	UpgradeAvailable      bool              `json:"upgrade_available"`
	State                 string            `json:"state"`
	Connections           map[string]string `json:"connections"`
	Config                json.RawMessage   `json:"config,omitempty"`
	// Overrides are the installation's replaced mapping rows and
	// switched-off triggers (GET …/overrides says what may change).
	Overrides json.RawMessage `json:"overrides,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	// Webhooks, in the answer to an install, says what was registered at
	// each partner that lets Accord subscribe its webhooks.
	Webhooks []registration.Result `json:"webhooks,omitempty"`
}

// InstallationInput is the body of POST /api/v1/tenants/{tenant}/installations.
type InstallationInput struct {
	Contract    string            `json:"contract"`
	Connections map[string]string `json:"connections"`
	Config      json.RawMessage   `json:"config,omitempty"`
	// Overrides are checked against the contract as PUT …/overrides
	// checks them. Default: none.
	Overrides *spec.Overrides `json:"overrides,omitempty"`
	// ConsentedBy names who agreed to the contract's scopes (the tenant's
	// admin, as the host product knows them); recorded in the audit log.
	// Default "operator".
	ConsentedBy string `json:"consented_by,omitempty"`
}

func (a *API) toInstallation(in store.Installation) Installation {
	out := Installation{ID: in.ID, Contract: in.Contract, ContractVersion: in.ContractVersion, State: string(in.State),
		Connections: in.Connections, Config: in.Config, Overrides: in.Overrides, CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt}
	if latest, ok := a.deps.Contracts[in.Contract]; ok {
		out.LatestContractVersion = latest.Version
		out.UpgradeAvailable = latest.Version != in.ContractVersion
	}
	return out
}

// contractVersion returns the loaded contract name at version ("" = the
// newest).
func (a *API) contractVersion(name, version string) (*spec.Contract, bool) {
	latest, ok := a.deps.Contracts[name]
	if !ok {
		return nil, false
	}
	if version == "" || version == latest.Version {
		return latest, true
	}
	c, ok := a.deps.Versions[name][version]
	return c, ok
}

// checkConnections reports the first provider of c that connections does
// not cover with one of the tenant's connections to that provider.
func (a *API) checkConnections(ctx context.Context, tenant string, c *spec.Contract, connections map[string]string) error {
	for _, p := range c.Providers {
		id, ok := connections[p]
		if !ok {
			return badRequest("contract %s %s uses provider %s: connections.%s must name one of this tenant's %s connections", c.Name, c.Version, p, p, p)
		}
		conn, err := a.deps.Store.GetConnection(ctx, tenant, id)
		if err != nil {
			return badRequest("connections.%s: connection %q does not exist for tenant %s", p, id, tenant)
		}
		if conn.Provider != p {
			return badRequest("connections.%s: connection %q is a %s connection", p, id, conn.Provider)
		}
	}
	return nil
}

func (a *API) createInstallation(w http.ResponseWriter, r *http.Request) error {
	var in InstallationInput
	if err := decode(r, &in); err != nil {
		return err
	}
	inst, hooks, err := a.install(r.Context(), r.PathValue("tenant"), in)
	if err != nil {
		return err
	}
	out := a.toInstallation(inst)
	out.Webhooks = hooks
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// Install installs the newest loaded version of in.Contract for tenant,
// active at once, over in.Connections (one of the tenant's connections per
// provider of the contract). The installation and the consent entry (who,
// which version, which scopes) are written in one transaction: there is
// never an installation without its consent. The admin API and the setup
// wizard both install through here.
//
// Before the installation is stored, the connections of providers that
// declare webhooks.registration are subscribed at the partner to the
// events the contract triggers on (see package registration): a failure
// is the install's error, saying what failed and how to fix it, and no
// installation is stored. Registration is idempotent, so installing again
// is the retry.
func (a *API) Install(ctx context.Context, tenant string, in InstallationInput) (store.Installation, error) {
	inst, _, err := a.install(ctx, tenant, in)
	return inst, err
}

// CreateSetup stores an installation of in.Contract in state setup: the
// engine acts on no live event for it and no webhook is registered, but
// test events can go through it (the setup wizard's test step). Enable
// turns it on; until then nothing is consented.
func (a *API) CreateSetup(ctx context.Context, tenant string, in InstallationInput) (store.Installation, error) {
	c, ok := a.deps.Contracts[in.Contract]
	if !ok {
		return store.Installation{}, badRequest("contract %q is not loaded", in.Contract)
	}
	if err := a.checkConnections(ctx, tenant, c, in.Connections); err != nil {
		return store.Installation{}, err
	}
	overrides, err := a.checkedOverrides(c, in.Overrides)
	if err != nil {
		return store.Installation{}, err
	}
	now := time.Now().UTC()
	inst := store.Installation{TenantID: tenant, ID: "inst_" + uuid.NewString(), Contract: c.Name, ContractVersion: c.Version,
		State: store.InstallationSetup, Connections: in.Connections, Overrides: overrides, CreatedAt: now, UpdatedAt: now}
	return inst, a.deps.Store.CreateInstallation(ctx, inst)
}

// Enable turns the setup installation id (see CreateSetup) on with in's
// overrides, as Install does a new one: webhooks registered first, then
// the state, the overrides and the consent entry in one transaction.
func (a *API) Enable(ctx context.Context, tenant, id string, in InstallationInput) (store.Installation, error) {
	cur, err := a.deps.Store.GetInstallation(ctx, tenant, id)
	if err != nil {
		return store.Installation{}, err
	}
	if cur.State != store.InstallationSetup || cur.Contract != in.Contract {
		return store.Installation{}, &Error{Status: http.StatusConflict, Msg: "installation " + id + " is not being set up for " + in.Contract + ": start the setup again"}
	}
	in.Connections = cur.Connections
	inst, _, err := a.installAs(ctx, tenant, in, &cur)
	return inst, err
}

func (a *API) checkedOverrides(c *spec.Contract, o *spec.Overrides) (json.RawMessage, error) {
	if o == nil {
		return nil, nil
	}
	if err := a.CheckOverrides(c, *o); err != nil {
		return nil, err
	}
	return encodeOverrides(*o)
}

func (a *API) install(ctx context.Context, tenant string, in InstallationInput) (store.Installation, []registration.Result, error) {
	return a.installAs(ctx, tenant, in, nil)
}

// installAs installs in, as a new installation or by enabling setup.
func (a *API) installAs(ctx context.Context, tenant string, in InstallationInput, setup *store.Installation) (store.Installation, []registration.Result, error) {
	c, ok := a.deps.Contracts[in.Contract]
	if !ok {
		return store.Installation{}, nil, badRequest("contract %q is not loaded", in.Contract)
	}
	if err := a.checkConnections(ctx, tenant, c, in.Connections); err != nil {
		return store.Installation{}, nil, err
	}
	overrides, err := a.checkedOverrides(c, in.Overrides)
	if err != nil {
		return store.Installation{}, nil, err
	}
	who := in.ConsentedBy
	if who == "" {
		who = "operator"
	}
	hooks, err := a.registerWebhooks(ctx, tenant, c, in.Connections, who)
	if err != nil {
		return store.Installation{}, nil, err
	}
	now := time.Now().UTC()
	inst := store.Installation{TenantID: tenant, ID: "inst_" + uuid.NewString(), Contract: c.Name, ContractVersion: c.Version,
		State: store.InstallationActive, Connections: in.Connections, Config: in.Config, Overrides: overrides, CreatedAt: now, UpdatedAt: now}
	if setup != nil {
		if setup.ContractVersion != c.Version {
			return store.Installation{}, nil, &Error{Status: http.StatusConflict, Msg: fmt.Sprintf(
				"%s was updated (version %s to %s) while it was being set up: start again, so the consent is for what it now asks", c.Name, setup.ContractVersion, c.Version)}
		}
		inst.ID, inst.CreatedAt = setup.ID, setup.CreatedAt
	}
	err = a.deps.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if setup == nil {
			if err := tx.CreateInstallation(ctx, inst); err != nil {
				return err
			}
		} else {
			if err := tx.SetInstallationOverrides(ctx, tenant, inst.ID, overrides); err != nil {
				return err
			}
			if err := tx.SetInstallationState(ctx, tenant, inst.ID, store.InstallationActive); err != nil {
				return err
			}
		}
		return consent(ctx, tx, inst, c, a.deps.Providers, who)
	})
	if err != nil {
		return store.Installation{}, nil, err
	}
	return inst, hooks, nil
}

func (a *API) listInstallations(w http.ResponseWriter, r *http.Request) error {
	list, err := a.deps.Store.ListInstallations(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return err
	}
	out := make([]Installation, 0, len(list))
	for _, in := range list {
		out = append(out, a.toInstallation(in))
	}
	writeJSON(w, http.StatusOK, map[string]any{"installations": out})
	return nil
}

func (a *API) getInstallation(w http.ResponseWriter, r *http.Request) error {
	in, err := a.deps.Store.GetInstallation(r.Context(), r.PathValue("tenant"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.toInstallation(in))
	return nil
}

func (a *API) setInstallationState(state store.InstallationState) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		tenant, id := r.PathValue("tenant"), r.PathValue("id")
		if cur, err := a.deps.Store.GetInstallation(r.Context(), tenant, id); err != nil {
			return err
		} else if cur.State == store.InstallationUninstalled {
			return &Error{Status: http.StatusConflict, Msg: "installation " + id + " is uninstalled; GET …/uninstall shows its progress"}
		}
		if err := a.deps.Store.SetInstallationState(r.Context(), tenant, id, state); err != nil {
			return err
		}
		in, err := a.deps.Store.GetInstallation(r.Context(), tenant, id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, a.toInstallation(in))
		return nil
	}
}

// upgradeInput is the body of POST …/installations/{id}/upgrade; an empty
// body upgrades to the newest loaded version.
type upgradeInput struct {
	Version string `json:"version,omitempty"`
}

// upgradeInstallation moves an installation to another loaded version of
// its contract (the newest by default, or an older one to roll back).
// Events already accepted run on the version in force when they are
// delivered. The change is in the tenant's audit log.
func (a *API) upgradeInstallation(w http.ResponseWriter, r *http.Request) error {
	tenant, id := r.PathValue("tenant"), r.PathValue("id")
	var in upgradeInput
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	inst, err := a.deps.Store.GetInstallation(r.Context(), tenant, id)
	if err != nil {
		return err
	}
	c, ok := a.contractVersion(inst.Contract, in.Version)
	if !ok {
		return badRequest("contract %s version %q is not loaded; GET /api/v1/contracts lists the loaded versions", inst.Contract, in.Version)
	}
	if err := a.checkConnections(r.Context(), tenant, c, inst.Connections); err != nil {
		return err
	}
	from := inst.ContractVersion
	err = a.deps.Store.InTx(r.Context(), func(ctx context.Context, tx store.Tx) error {
		if err := tx.SetInstallationContractVersion(ctx, tenant, id, c.Version); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]string{"contract": c.Name, "from_version": from, "to_version": c.Version})
		p, _ := access.FromContext(ctx)
		_, err := tx.AppendAudit(ctx, store.AuditEntry{TenantID: tenant, Actor: p.Actor, Action: "installation.upgraded",
			Subject: id, Detail: detail})
		return err
	})
	if err != nil {
		return err
	}
	a.deps.Logger.InfoContext(r.Context(), "installation contract version changed", "tenant_id", tenant, "installation_id", id,
		"contract", c.Name, "from_version", from, "to_version", c.Version)
	inst.ContractVersion = c.Version
	writeJSON(w, http.StatusOK, a.toInstallation(inst))
	return nil
}
