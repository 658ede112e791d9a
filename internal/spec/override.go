package spec

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Kinds of override a mapping row may allow (Row.Override).
const (
	OverrideConstant = "constant"
	OverrideExpr     = "expr"
)

// Overrides are one installation's choices inside what its contract
// allows: replacements for the rows marked `override`, and the triggers it
// switched off. The zero value changes nothing.
type Overrides struct {
	// Fields replaces mapping rows, keyed "action.field" (as a pack's
	// defaults are).
	Fields map[string]FieldOverride `json:"fields,omitempty"`
	// DisabledTriggers names triggers whose events this installation does
	// not act on: they end filtered. Default: every trigger is on.
	DisabledTriggers []string `json:"disabled_triggers,omitempty"`
}

// FieldOverride is one replaced row: a constant Value for a row that
// allows `constant`, or an Expr for one that allows `expr`.
type FieldOverride struct {
	Value any    `json:"value,omitempty"`
	Expr  string `json:"expr,omitempty"`
}

// Empty reports whether o changes nothing.
func (o Overrides) Empty() bool { return len(o.Fields) == 0 && len(o.DisabledTriggers) == 0 }

// TriggerOn reports whether the installation acts on trigger's events.
func (o Overrides) TriggerOn(trigger string) bool {
	return !slices.Contains(o.DisabledTriggers, trigger)
}

// OverrideProblem is one refused override: Key is "fields.<action.field>"
// or "disabled_triggers", Msg says what is wrong and what is allowed.
type OverrideProblem struct {
	Key string
	Msg string
}

func (p OverrideProblem) String() string { return p.Key + ": " + p.Msg }

// Overridable is one row an installation may replace.
type Overridable struct {
	Key     string // action.field
	Action  string
	Row     *Row
	Kind    string // OverrideConstant or OverrideExpr
	Allowed []any  // the values a constant may take (the row's allowed, else the target's enum)
	Type    string // the type written: the row's, else the target field's
}

// Overridables lists c's rows that allow an override, in action and
// mapping order.
func (c *Contract) Overridables(providers map[string]*Provider) []Overridable {
	var out []Overridable
	for _, a := range c.Actions {
		if a == nil {
			continue
		}
		for _, r := range a.Mapping {
			if r == nil || r.Override == "" {
				continue
			}
			ov := Overridable{Key: a.Name + "." + r.To, Action: a.Name, Row: r, Kind: r.Override, Allowed: r.Allowed, Type: r.Type}
			if p := providers[a.Provider]; p != nil && p.Objects[a.Object] != nil {
				if f := p.Objects[a.Object].Lookup(r.To); f != nil {
					if len(ov.Allowed) == 0 {
						ov.Allowed = f.Enum
					}
					if ov.Type == "" {
						ov.Type = f.Type
					}
				}
			}
			out = append(out, ov)
		}
	}
	return out
}

// CheckOverrides checks o against c as the loader checks c's own rows (the
// same conversions, allowed values and CEL type checks): what it accepts,
// the engine can run. It returns every problem, sorted by key; none means
// o is valid.
func (c *Contract) CheckOverrides(providers map[string]*Provider, o Overrides) []OverrideProblem {
	var out []OverrideProblem
	allowed := map[string]Overridable{}
	var keys []string
	for _, ov := range c.Overridables(providers) {
		allowed[ov.Key] = ov
		keys = append(keys, ov.Key)
	}
	for _, key := range slices.Sorted(maps.Keys(o.Fields)) {
		fo := o.Fields[key]
		ov, ok := allowed[key]
		if !ok {
			msg := fmt.Sprintf("contract %s does not let an installation change %s", c.Name, key)
			if len(keys) == 0 {
				msg += "; it allows no overrides"
			} else {
				msg += "; it allows " + strings.Join(keys, ", ")
			}
			out = append(out, OverrideProblem{Key: "fields." + key, Msg: msg})
			continue
		}
		for _, m := range c.checkFieldOverride(providers, ov, fo) {
			out = append(out, OverrideProblem{Key: "fields." + key, Msg: m})
		}
	}
	off := 0
	for _, t := range o.DisabledTriggers {
		if c.Triggers[t] == nil {
			out = append(out, OverrideProblem{Key: "disabled_triggers", Msg: fmt.Sprintf("contract %s has no trigger %s%s", c.Name, t,
				didYouMean(t, sortedKeys(c.Triggers)))})
			continue
		}
		off++
	}
	if len(c.Triggers) > 0 && off >= len(c.Triggers) {
		out = append(out, OverrideProblem{Key: "disabled_triggers", Msg: "at least one trigger must stay on: to stop the integration, pause it"})
	}
	return out
}

func (c *Contract) checkFieldOverride(providers map[string]*Provider, ov Overridable, fo FieldOverride) []string {
	switch {
	case ov.Kind == OverrideConstant && fo.Expr != "":
		return []string{"only a constant value is allowed here, not an expression"}
	case ov.Kind == OverrideConstant && fo.Value == nil:
		return []string{"give a value" + allowedHint(ov.Allowed)}
	case ov.Kind == OverrideExpr && fo.Value != nil:
		return []string{"give a CEL expression (expr), not a value; a constant is an expression too, e.g. \"text\" or 3"}
	case ov.Kind == OverrideExpr && strings.TrimSpace(fo.Expr) == "":
		return []string{"give a CEL expression (expr)"}
	}
	a := c.action(ov.Action)
	src, sp := c.source(providers, a.Trigger)
	tp := providers[a.Provider]
	if src == nil || tp == nil || tp.Objects[a.Object] == nil {
		return []string{"the contract's objects are not loaded"}
	}
	objs := []*Object{src}
	for _, en := range a.Enrich {
		if o := sp.Objects[en.Object]; o != nil {
			objs = append(objs, o)
		}
	}
	d := &decoder{rejected: map[Pos]bool{}, failed: map[string]bool{}}
	checkRow(d, c, a, overriddenRow(ov.Row, fo), objs, tp.Objects[a.Object])
	var msgs []string
	for _, diag := range d.diags {
		msgs = append(msgs, strings.TrimPrefix(diag.Message, ov.Row.To+": "))
	}
	return msgs
}

func allowedHint(allowed []any) string {
	if len(allowed) == 0 {
		return ""
	}
	return " (one of " + joinValues(allowed) + ")"
}

func (c *Contract) action(name string) *Action {
	for _, a := range c.Actions {
		if a != nil && a.Name == name {
			return a
		}
	}
	return nil
}

// source returns the object trigger carries and the provider sending it,
// or nils when the contract does not resolve (it then failed to load).
func (c *Contract) source(providers map[string]*Provider, trigger string) (*Object, *Provider) {
	t := c.Triggers[trigger]
	if t == nil {
		return nil, nil
	}
	if s := t.Schedule; s != nil {
		if p := providers[s.Provider]; p != nil {
			return p.Objects[s.Object], p
		}
	}
	if w := t.Webhook; w != nil && len(w.Events) > 0 {
		if p := providers[w.Provider]; p != nil && p.Webhooks != nil && p.Webhooks.Events[w.Events[0]] != nil {
			return p.Objects[p.Webhooks.Events[w.Events[0]].Object], p
		}
	}
	return nil, nil
}

// overriddenRow is r with its source replaced by fo: the value map and the
// source field go, the target type and allowed values stay.
func overriddenRow(r *Row, fo FieldOverride) *Row {
	out := &Row{To: r.To, Type: r.Type, Allowed: r.Allowed, Override: r.Override, Meta: Meta{File: r.Meta.File, Pos: r.Meta.Pos}}
	if fo.Expr != "" {
		out.Expr = fo.Expr
		return out
	}
	out.Default = fo.Value
	out.Meta.keys = map[string]Pos{"default": r.Meta.Pos}
	return out
}

// WithOverrides returns c with o's fields applied: a copy whose overridden
// rows read the installation's constant or expression; c is not modified.
// o must have passed CheckOverrides. Triggers are not touched (the engine
// asks TriggerOn per event).
func (c *Contract) WithOverrides(o Overrides) *Contract {
	if len(o.Fields) == 0 {
		return c
	}
	cp := *c
	cp.Actions = make([]*Action, len(c.Actions))
	for i, a := range c.Actions {
		if a == nil {
			continue
		}
		ac := *a
		ac.Mapping = make([]*Row, len(a.Mapping))
		for j, r := range a.Mapping {
			if fo, ok := o.Fields[a.Name+"."+r.To]; ok && r != nil && r.Override != "" {
				ac.Mapping[j] = overriddenRow(r, fo)
			} else {
				ac.Mapping[j] = r
			}
		}
		cp.Actions[i] = &ac
	}
	return &cp
}
