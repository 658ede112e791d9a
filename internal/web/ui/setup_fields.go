package ui

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/accordhq/accord/internal/spec"
)

// The fields step ("choose objects → map fields"): the admin switches
// triggers off and replaces the rows the contract marks `override`. The
// choices travel in the signed state; every submit is checked with
// spec.CheckOverrides, as PUT …/overrides and the install are, and a
// refused value stays on the page beside its error, never in the state.

// overridesFormMarker is posted by the fields step's form only: other
// steps' forms carry the state's overrides unchanged.
const overridesFormMarker = "overrides_form"

// setupOverride is one overridable row on the fields step.
type setupOverride struct {
	Key, Action, To string
	Kind            string   // constant or expr
	Allowed         []string // a constant's choices, when the contract limits them
	// Default says what the contract writes without an override.
	Default string
	// Value is what the form shows: the admin's text, or the state's.
	Value string
	Err   string
}

// setupTrigger is one of the contract's triggers with its switch.
type setupTrigger struct {
	Name, Desc string
	On         bool
}

// readOverrides reads the fields step's form. raw keeps what was typed,
// by key, so a refused value is shown again as typed.
func readOverrides(r *http.Request, c *spec.Contract, providers map[string]*spec.Provider) (o spec.Overrides, raw map[string]string) {
	raw = map[string]string{}
	for _, ov := range c.Overridables(providers) {
		v := strings.TrimSpace(r.PostFormValue("ov:" + ov.Key))
		raw[ov.Key] = v
		if v == "" {
			continue // the contract's mapping
		}
		if o.Fields == nil {
			o.Fields = map[string]spec.FieldOverride{}
		}
		if ov.Kind == spec.OverrideExpr {
			o.Fields[ov.Key] = spec.FieldOverride{Expr: v}
			continue
		}
		// A form sends text: converted to the field's type here, so that
		// "1" is the number 1; what does not convert is left as typed and
		// CheckOverrides says why.
		if cv, err := spec.ConvertValue(ov.Type, v); err == nil {
			o.Fields[ov.Key] = spec.FieldOverride{Value: cv}
		} else {
			o.Fields[ov.Key] = spec.FieldOverride{Value: v}
		}
	}
	on := r.PostForm["trigger_on"]
	for _, name := range slices.Sorted(maps.Keys(c.Triggers)) {
		if !slices.Contains(on, name) {
			o.DisabledTriggers = append(o.DisabledTriggers, name)
		}
	}
	return o, raw
}

// overrideErrors maps CheckOverrides' problems to the form: by row key,
// and "" for the triggers.
func overrideErrors(probs []spec.OverrideProblem) map[string]string {
	out := map[string]string{}
	for _, p := range probs {
		key := strings.TrimPrefix(p.Key, "fields.")
		if p.Key == "disabled_triggers" {
			key = ""
		}
		if out[key] != "" {
			out[key] += "; "
		}
		out[key] += p.Msg
	}
	return out
}

func (u *UI) setupOverrides(c *spec.Contract, st setupState, f setupForm) ([]setupOverride, []setupTrigger) {
	var ovs []setupOverride
	for _, ov := range c.Overridables(u.deps.Providers) {
		so := setupOverride{Key: ov.Key, Action: ov.Action, To: ov.Row.To, Kind: ov.Kind, Default: rowSource(ov.Row),
			Err: f.OverrideErrors[ov.Key]}
		for _, a := range ov.Allowed {
			so.Allowed = append(so.Allowed, fmt.Sprint(a))
		}
		if v, ok := f.Overrides[ov.Key]; ok {
			so.Value = v
		} else if fo, ok := st.Overrides.Fields[ov.Key]; ok {
			so.Value = fo.Expr
			if fo.Value != nil {
				so.Value = fmt.Sprint(fo.Value)
			}
		}
		ovs = append(ovs, so)
	}
	var ts []setupTrigger
	for _, name := range slices.Sorted(maps.Keys(c.Triggers)) {
		ts = append(ts, setupTrigger{Name: name, Desc: triggerDesc(c.Triggers[name], u.deps.Providers), On: st.Overrides.TriggerOn(name)})
	}
	return ovs, ts
}

// triggerDesc says in words what a trigger acts on.
func triggerDesc(t *spec.Trigger, providers map[string]*spec.Provider) string {
	var parts []string
	if w := t.Webhook; w != nil {
		s := providerTitleOf(providers, w.Provider) + " events " + strings.Join(w.Events, ", ")
		if w.Condition != "" {
			s += " when " + w.Condition
		}
		parts = append(parts, s)
	}
	if sc := t.Schedule; sc != nil {
		parts = append(parts, "a scheduled sync of "+providerTitleOf(providers, sc.Provider)+" "+sc.Object+"s")
	}
	return strings.Join(parts, "; ")
}
