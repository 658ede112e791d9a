package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/accordhq/accord/internal/access"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// Overrides is the answer to GET and PUT …/installations/{id}/overrides:
// what the installation changed, and what its contract version lets it
// change.
type Overrides struct {
	Fields           map[string]spec.FieldOverride `json:"fields"`
	DisabledTriggers []string                      `json:"disabled_triggers"`
	// Overridable lists the rows the contract lets an installation replace.
	Overridable []Overridable `json:"overridable"`
	// Triggers lists the contract's triggers, each of which an installation
	// may switch off (not all of them).
	Triggers []string `json:"triggers"`
}

// Overridable is one row an installation may replace: Kind "constant"
// (Allowed lists the values, when the contract limits them) or "expr" (a
// CEL expression over the trigger's object).
type Overridable struct {
	Key     string `json:"key"`
	Kind    string `json:"kind"`
	Allowed []any  `json:"allowed,omitempty"`
}

// OverridesInput is the body of PUT …/installations/{id}/overrides: the
// whole new set (what it leaves out goes back to the contract's default).
type OverridesInput struct {
	Fields           map[string]spec.FieldOverride `json:"fields,omitempty"`
	DisabledTriggers []string                      `json:"disabled_triggers,omitempty"`
}

// CheckOverrides refuses overrides c does not allow, with every problem
// in one message ("fields.create_incident.severity: 7 is not a value the
// target accepts (1, 2, 3); …").
func (a *API) CheckOverrides(c *spec.Contract, o spec.Overrides) error {
	probs := c.CheckOverrides(a.deps.Providers, o)
	if len(probs) == 0 {
		return nil
	}
	msgs := make([]string, len(probs))
	for i, p := range probs {
		msgs[i] = p.String()
	}
	return badRequest("overrides refused for contract %s %s: %s", c.Name, c.Version, strings.Join(msgs, "; "))
}

// encodeOverrides is the stored form: nil when o changes nothing.
func encodeOverrides(o spec.Overrides) (json.RawMessage, error) {
	if o.Empty() {
		return nil, nil
	}
	raw, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encoding overrides: %w", err)
	}
	return raw, nil
}

func (a *API) overridesOf(c *spec.Contract, inst store.Installation) (Overrides, error) {
	var o spec.Overrides
	if len(inst.Overrides) > 0 {
		if err := json.Unmarshal(inst.Overrides, &o); err != nil {
			return Overrides{}, fmt.Errorf("reading the overrides of installation %s: %w", inst.ID, err)
		}
	}
	out := Overrides{Fields: o.Fields, DisabledTriggers: o.DisabledTriggers, Overridable: []Overridable{}, Triggers: []string{}}
	if out.Fields == nil {
		out.Fields = map[string]spec.FieldOverride{}
	}
	if out.DisabledTriggers == nil {
		out.DisabledTriggers = []string{}
	}
	if c != nil {
		for _, ov := range c.Overridables(a.deps.Providers) {
			out.Overridable = append(out.Overridable, Overridable{Key: ov.Key, Kind: ov.Kind, Allowed: ov.Allowed})
		}
		for name := range c.Triggers {
			out.Triggers = append(out.Triggers, name)
		}
		slices.Sort(out.Triggers)
	}
	return out, nil
}

func (a *API) getOverrides(w http.ResponseWriter, r *http.Request) error {
	inst, err := a.deps.Store.GetInstallation(r.Context(), r.PathValue("tenant"), r.PathValue("id"))
	if err != nil {
		return err
	}
	c, _ := a.contractVersion(inst.Contract, inst.ContractVersion)
	out, err := a.overridesOf(c, inst)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// putOverrides replaces an installation's overrides after checking them
// against the contract version it runs; the change is audited.
func (a *API) putOverrides(w http.ResponseWriter, r *http.Request) error {
	tenant, id := r.PathValue("tenant"), r.PathValue("id")
	var in OverridesInput
	if err := decode(r, &in); err != nil {
		return err
	}
	inst, err := a.deps.Store.GetInstallation(r.Context(), tenant, id)
	if err != nil {
		return err
	}
	if inst.State == store.InstallationUninstalled {
		return &Error{Status: http.StatusConflict, Msg: "installation " + id + " is uninstalled"}
	}
	c, ok := a.contractVersion(inst.Contract, inst.ContractVersion)
	if !ok {
		return &Error{Status: http.StatusConflict, Msg: fmt.Sprintf("contract %s %s is not loaded, so its overrides cannot be checked; upgrade the installation first", inst.Contract, inst.ContractVersion)}
	}
	if err := a.SetOverrides(r.Context(), c, inst, spec.Overrides(in)); err != nil {
		return err
	}
	if inst, err = a.deps.Store.GetInstallation(r.Context(), tenant, id); err != nil {
		return err
	}
	out, err := a.overridesOf(c, inst)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// SetOverrides checks o against c (inst's contract version) and stores it
// with its audit entry, in one transaction. The setup wizard and PUT
// …/overrides both go through here.
func (a *API) SetOverrides(ctx context.Context, c *spec.Contract, inst store.Installation, o spec.Overrides) error {
	if err := a.CheckOverrides(c, o); err != nil {
		return err
	}
	raw, err := encodeOverrides(o)
	if err != nil {
		return err
	}
	return a.deps.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.SetInstallationOverrides(ctx, inst.TenantID, inst.ID, raw); err != nil {
			return err
		}
		// The values are configuration, not secrets, but the audit log
		// names what changed: the keys and the switched-off triggers.
		keys := make([]string, 0, len(o.Fields))
		for k := range o.Fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		detail, _ := json.Marshal(map[string]any{"fields": keys, "disabled_triggers": o.DisabledTriggers})
		p, _ := access.FromContext(ctx)
		_, err := tx.AppendAudit(ctx, store.AuditEntry{TenantID: inst.TenantID, Actor: p.Actor, Action: "installation.overrides_changed",
			Subject: inst.ID, Detail: detail})
		return err
	})
}
