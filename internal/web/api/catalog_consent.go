package api

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"

	"github.com/accordhq/accord/internal/review"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// catalog answers every contract a tenant may install (the newest loaded
// version of each): its plain-language explanation, the scopes it needs
// with why, the data read, written and stored with its retention, and
// its rollout stage.
func (a *API) catalog(w http.ResponseWriter, r *http.Request) error {
	out := []review.Contract{}
	for _, name := range slices.Sorted(maps.Keys(a.deps.Contracts)) {
		_, d, _ := a.CatalogContract(name)
		out = append(out, d)
	}
	writeJSON(w, http.StatusOK, map[string]any{"contracts": out})
	return nil
}

// CatalogContract is the newest loaded version of contract name, what
// Install installs, with the catalog's description of it (what GET
// /api/v1/catalog answers for it): the setup wizard asks consent to
// exactly what the API describes.
func (a *API) CatalogContract(name string) (*spec.Contract, review.Contract, bool) {
	c, ok := a.deps.Contracts[name]
	if !ok {
		return nil, review.Contract{}, false
	}
	return c, review.Describe(c, &spec.Bundle{Providers: a.deps.Providers}, review.Options{
		EventRetention: a.deps.EventRetention, Rollout: a.deps.Rollout[name]}), true
}

// CatalogNames lists the loaded contracts' names, sorted.
func (a *API) CatalogNames() []string { return slices.Sorted(maps.Keys(a.deps.Contracts)) }

// consent records, in tx, that who agreed to install c for the tenant:
// when (the entry's time), which contract version and which scopes.
func consent(ctx context.Context, tx store.Tx, inst store.Installation, c *spec.Contract, providers map[string]*spec.Provider, who string) error {
	type scope struct {
		Provider string `json:"provider"`
		Scope    string `json:"scope"`
	}
	var scopes []scope
	for _, p := range review.Permissions(c, &spec.Bundle{Providers: providers}) {
		scopes = append(scopes, scope{Provider: p.Provider, Scope: p.Scope})
	}
	detail, err := json.Marshal(map[string]any{"contract": c.Name, "contract_version": c.Version, "scopes": scopes,
		"connections": inst.Connections})
	if err != nil {
		return err
	}
	_, err = tx.AppendAudit(ctx, store.AuditEntry{TenantID: inst.TenantID, Actor: who, Action: "installation.consented",
		Subject: inst.ID, Detail: detail})
	return err
}
