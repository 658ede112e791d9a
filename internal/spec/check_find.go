package spec

import (
	"strings"

	"cel.dev/cel-go/cel"
)

// checkRecordKey checks the contract's record key: each entry names the
// object a trigger carries and a field of it.
func checkRecordKey(d *decoder, c *Contract, sources map[string]*Object) {
	if len(c.RecordKey) == 0 {
		return
	}
	carried := map[string]*Object{}
	for _, o := range sources {
		carried[o.Name] = o
	}
	for _, name := range sortedKeys(c.RecordKey) {
		path := c.RecordKey[name]
		obj := carried[name]
		if obj == nil {
			d.errorAt(c.Meta.At("record_key"), "record_key: no trigger carries object %s%s", name, didYouMean(name, sortedKeys(carried)))
			continue
		}
		head, rest, _ := strings.Cut(path, ".")
		if head != name || rest == "" {
			d.errorAt(c.Meta.At("record_key"), "record_key: the key of %s must be a path in it, e.g. %s.%s", name, name, obj.IDField())
			continue
		}
		lookupReport(d, c.Meta.At("record_key"), obj, rest)
	}
}

// checkEnrich checks an action's related objects and returns the objects in
// scope of its mapping: the trigger's object first, then each enriched one.
func checkEnrich(d *decoder, a *Action, src *Object, p *Provider) []*Object {
	if src == nil {
		return nil
	}
	objs := []*Object{src}
	for _, en := range a.Enrich {
		if en == nil || p == nil {
			continue
		}
		o := p.Objects[en.Object]
		switch {
		case o == nil:
			d.errorAt(en.Meta.At("object"), "%s has no object %s to enrich with%s", p.Name, en.Object, didYouMean(en.Object, sortedKeys(p.Objects)))
			continue
		case o == src || objectNamed(objs, o.Name) != nil:
			d.errorAt(en.Meta.At("object"), "%s is already in scope", o.Name)
			continue
		case o.Endpoints.Get == nil:
			d.errorAt(en.Meta.At("object"), "%s.%s has no get endpoint to fetch it with", p.Name, o.Name)
		}
		head, rest, _ := strings.Cut(en.ID, ".")
		if head != src.Name || rest == "" {
			d.errorAt(en.Meta.At("id"), "id must be a path in the trigger's object, e.g. %s.%s_id", src.Name, o.Name)
		} else {
			lookupReport(d, en.Meta.At("id"), src, rest)
		}
		objs = append(objs, o)
	}
	return objs
}

// checkMatchOn: the fields an action is matched on must be mapped, and the
// target's find endpoint must be able to search with what is mapped.
func checkMatchOn(d *decoder, a *Action, dst *Object, mapped map[string]bool) {
	if len(a.MatchOn) == 0 || dst == nil {
		return
	}
	if a.Op == OpUpdate {
		d.errorAt(a.Meta.At("match_on"), "match_on applies to create and upsert: an update only writes a linked target")
		return
	}
	find := dst.Endpoints.Find
	if find == nil {
		d.errorAt(a.Meta.At("match_on"), "match_on needs a `find` endpoint on %s.%s to search with", a.Provider, a.Object)
		return
	}
	on := map[string]bool{}
	for _, f := range a.MatchOn {
		on[f] = true
		if !mapped[f] {
			d.errorAt(a.Meta.At("match_on"), "match_on field %s is not written by any mapping row of %s", f, a.Name)
		}
	}
	for _, ph := range find.Placeholders() {
		if !on[ph] {
			d.errorAt(a.Meta.At("match_on"), "%s.%s's find endpoint searches by {%s}, which is not in match_on", a.Provider, a.Object, ph)
		}
	}
}

func objectNamed(objs []*Object, name string) *Object {
	for _, o := range objs {
		if o.Name == name {
			return o
		}
	}
	return nil
}

func enrichHint(objs []*Object) string {
	if len(objs) < 2 {
		return ""
	}
	names := make([]string, 0, len(objs)-1)
	for _, o := range objs[1:] {
		names = append(names, o.Name)
	}
	return " or an enriched object (" + strings.Join(names, ", ") + ")"
}

func isScalar(t *cel.Type) bool {
	switch t.Kind() {
	case cel.IntKind, cel.UintKind, cel.DoubleKind, cel.BoolKind, cel.StringKind, cel.TimestampKind, cel.DynKind:
		return true
	}
	return false
}

// convertHint says how to fix a type mismatch people meet most: numbers
// from JSON are double unless declared int.
func convertHint(want string, got *cel.Type) string {
	switch {
	case want == TypeInt && got.Kind() == cel.DoubleKind:
		return "; wrap it in int(…), or declare the row `type: float`"
	case want == TypeString:
		return "; declare the row `type: string` to convert it, or wrap it in string(…)"
	}
	return ""
}
