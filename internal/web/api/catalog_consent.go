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
	b := &spec.Bundle{Providers: a.deps.Providers}
	out := []review.Contract{}
	for _, name := range slices.Sorted(maps.Keys(a.deps.Contracts)) {
		out = append(out, review.Describe(a.deps.Contracts[name], b, review.Options{
			EventRetention: a.deps.EventRetention, Rollout: a.deps.Rollout[name]}))
	}
	writeJSON(w, http.StatusOK, map[string]any{"contracts": out})
	return nil
}

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
