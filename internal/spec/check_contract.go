package spec

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"go.yaml.in/yaml/v3"
)

var semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// checkContract validates what needs no provider: shapes, names and
// references inside the contract.
func checkContract(d *decoder, c *Contract) {
	if c.Name != "" && !namePattern.MatchString(c.Name) {
		d.errorAt(c.Meta.At("name"), "name %q must be lowercase letters, digits, - or _, starting with a letter", c.Name)
	}
	if c.Version != "" && !semverPattern.MatchString(c.Version) {
		d.errorAt(c.Meta.At("version"), "version %q must be a semantic version such as 1.0.0", c.Version)
	}
	seen := map[string]bool{}
	for i, p := range c.Providers {
		if seen[p] {
			d.errorAt(c.Meta.At("providers"), "provider %s is listed twice (item %d)", p, i+1)
		}
		seen[p] = true
	}
	for _, o := range c.SourceOfTruth {
		if o != nil && strings.Count(o.Object, ".") != 1 {
			d.errorAt(o.Meta.At("object"), "object %q must be written provider.object, e.g. incidents.incident", o.Object)
		}
	}
	for _, name := range sortedKeys(c.Triggers) {
		t := c.Triggers[name]
		if t == nil {
			continue
		}
		t.Name = name
		if t.Webhook == nil && t.Schedule == nil {
			d.errorAt(t.Meta.Pos, "trigger %s needs `webhook`, `schedule` or both (webhooks apply changes at once; a schedule lists what they missed)", name)
		}
		if s := t.Schedule; s != nil {
			if (s.Cron == "") == (s.Every == 0) {
				d.errorAt(s.Meta.Pos, "schedule needs exactly one of `cron` or `every`")
			}
			if s.Cron != "" && len(strings.Fields(s.Cron)) != 5 {
				d.errorAt(s.Meta.At("cron"), "cron %q must have five fields: minute hour day-of-month month day-of-week", s.Cron)
			}
		}
	}
	triggers := sortedKeys(c.Triggers)
	names := map[string]bool{}
	for _, a := range c.Actions {
		if a == nil {
			continue
		}
		if names[a.Name] {
			d.errorAt(a.Meta.At("name"), "action %s is defined twice", a.Name)
		}
		names[a.Name] = true
		if a.Trigger != "" && c.Triggers[a.Trigger] == nil {
			d.errorAt(a.Meta.At("trigger"), "no trigger named %s%s", a.Trigger, didYouMean(a.Trigger, triggers))
		}
		if a.OnMissing != "" && a.Op == OpCreate {
			d.errorAt(a.Meta.At("on_missing"), "on_missing only applies to update and upsert")
		}
		switch {
		case a.DeletePolicy() == DeleteMark && len(a.DeleteMark) == 0:
			d.errorAt(a.Meta.At("on_delete"), "on_delete: mark needs `delete_mark`, the rows written to the target when its source is deleted, e.g. delete_mark: [{to: status, default: deleted}]")
		case a.DeletePolicy() != DeleteMark && len(a.DeleteMark) > 0:
			d.errorAt(a.Meta.At("delete_mark"), "delete_mark is only written with on_delete: mark (this action's on_delete is %s): set on_delete: mark or remove delete_mark", a.DeletePolicy())
		}
		checkRowShapes(d, a, a.Mapping, "mapping")
		checkRowShapes(d, a, a.DeleteMark, "delete_mark")
	}
}

// checkRowShapes checks one mapping table's rows on their own: each
// target once, and one source per row.
func checkRowShapes(d *decoder, a *Action, rows []*Row, table string) {
	tos := map[string]bool{}
	for _, r := range rows {
		if r == nil {
			continue
		}
		if tos[r.To] {
			d.errorAt(r.Meta.At("to"), "%s is mapped twice in action %s's %s", r.To, a.Name, table)
		}
		tos[r.To] = true
		switch {
		case r.From != "" && r.Expr != "":
			d.errorAt(r.Meta.At("expr"), "%s: use `from` or `expr`, not both", r.To)
		case r.From == "" && r.Expr == "" && !r.HasDefault():
			d.errorAt(r.Meta.Pos, "%s: needs `from`, `expr`, or a constant `default`", r.To)
		}
	}
}

// resolveContract checks every reference from c into providers, and
// type-checks its CEL expressions against the objects they read.
func resolveContract(d *decoder, c *Contract, providers map[string]*Provider) {
	known := sortedKeys(providers)
	declared := map[string]bool{}
	for _, name := range c.Providers {
		declared[name] = true
		if providers[name] == nil && !d.failed["provider:"+name] {
			d.errorAt(c.Meta.At("providers"), "unknown provider %s%s", name, didYouMean(name, known))
		}
	}
	provider := func(meta Meta, key, name string) *Provider {
		p := providers[name]
		switch {
		case name == "", p == nil && d.failed["provider:"+name]:
			return nil
		case p == nil:
			d.errorAt(meta.At(key), "unknown provider %s%s", name, didYouMean(name, known))
		case !declared[name]:
			d.errorAt(meta.At(key), "provider %s is not listed under `providers`", name)
		}
		return p
	}
	object := func(meta Meta, key string, p *Provider, name string) *Object {
		if p == nil || name == "" {
			return nil
		}
		o := p.Objects[name]
		if o == nil {
			d.errorAt(meta.At(key), "%s has no object %s%s", p.Name, name, didYouMean(name, sortedKeys(p.Objects)))
		}
		return o
	}

	for _, o := range c.SourceOfTruth {
		if o == nil {
			continue
		}
		pname, oname, _ := strings.Cut(o.Object, ".")
		obj := object(o.Meta, "object", provider(o.Meta, "object", pname), oname)
		provider(o.Meta, "owner", o.Owner)
		for _, f := range sortedKeys(o.Fields) {
			provider(o.Meta, "fields", o.Fields[f])
			if obj != nil && obj.Lookup(f) == nil {
				d.errorAt(o.Meta.At("fields"), "%s has no field %s%s", obj.Name, f, didYouMean(f, sortedKeys(obj.Fields)))
			}
		}
	}

	// The object each trigger carries: the source of its actions.
	sources := map[string]*Object{}
	sourceProviders := map[string]*Provider{}
	// deleteEvents are each trigger's event types that report a deletion.
	deleteEvents := map[string][]string{}
	for _, name := range sortedKeys(c.Triggers) {
		t := c.Triggers[name]
		if t == nil {
			continue
		}
		if w := t.Webhook; w != nil {
			p := provider(w.Meta, "provider", w.Provider)
			if p == nil {
				continue
			}
			if p.Webhooks == nil {
				d.errorAt(w.Meta.At("provider"), "%s does not send webhooks; use a schedule trigger", p.Name)
				continue
			}
			var obj *Object
			for i, ev := range w.Events {
				et := p.Webhooks.Events[ev]
				pos := seqItemPos(w.Meta, "events", i)
				if et == nil {
					d.errorAt(pos, "%s sends no event %s%s", p.Name, ev, didYouMean(ev, sortedKeys(p.Webhooks.Events)))
					continue
				}
				if et.Deletes {
					deleteEvents[name] = append(deleteEvents[name], ev)
				}
				o := p.Objects[et.Object]
				if obj != nil && o != obj {
					d.errorAt(pos, "event %s carries %s but the trigger's other events carry %s", ev, et.Object, obj.Name)
					continue
				}
				obj = o
			}
			if obj != nil {
				sources[name], sourceProviders[name] = obj, p
				checkCondition(d, obj, w.Meta, w.Condition)
			}
		}
		if s := t.Schedule; s != nil {
			obj := object(s.Meta, "object", provider(s.Meta, "provider", s.Provider), s.Object)
			if w := t.Webhook; w != nil && s.Condition != "" {
				d.errorAt(s.Meta.At("condition"), "trigger %s has a webhook and a schedule: write the condition once, under webhook; it applies to both", name)
			}
			if prev := sources[name]; obj != nil && prev != nil && (prev != obj || sourceProviders[name] != providers[s.Provider]) {
				d.errorAt(s.Meta.At("object"), "the schedule lists %s.%s but the trigger's webhook events carry %s.%s: a trigger's webhook and schedule must watch the same object",
					s.Provider, obj.Name, sourceProviders[name].Name, prev.Name)
				obj = nil
			}
			if obj != nil {
				sources[name], sourceProviders[name] = obj, providers[s.Provider]
				if obj.Endpoints.List == nil {
					d.errorAt(s.Meta.At("object"), "%s has no list endpoint to poll", obj.Name)
				}
				if obj.Version == "" {
					d.errorAt(s.Meta.At("object"), "%s has no `version` field: a sync needs the field that orders changes (e.g. version: updated in the provider's objects.%s) to list only what changed and apply changes in order", obj.Name, obj.Name)
				}
				checkCondition(d, obj, s.Meta, s.Condition)
			}
		}
	}

	checkRecordKey(d, c, sources)
	checkOnConflict(d, c, sources, sourceProviders)
	checkDuplicatesReason(d, c.Duplicates)
	for _, a := range c.Actions {
		if a == nil {
			continue
		}
		p := provider(a.Meta, "provider", a.Provider)
		dst := object(a.Meta, "object", p, a.Object)
		if dst != nil {
			ep := dst.Endpoints
			need := func(what string, e *Endpoint) {
				if e == nil {
					d.errorAt(a.Meta.At("op"), "%s needs a %s endpoint on %s.%s", a.Op, what, a.Provider, a.Object)
				}
			}
			switch a.Op {
			case OpCreate:
				need("create", ep.Create)
			case OpUpdate:
				need("update", ep.Update)
			case OpUpsert:
				need("create", ep.Create)
				need("update", ep.Update)
			}
		}
		checkDuplicates(d, c, a, dst)
		src := sources[a.Trigger]
		objs := checkEnrich(d, a, src, sourceProviders[a.Trigger])
		mapped := map[string]bool{}
		for _, r := range a.Mapping {
			if r == nil {
				continue
			}
			top, _, _ := strings.Cut(r.To, ".")
			mapped[top] = true
			checkRow(d, c, a, r, objs, dst)
		}
		checkMatchOn(d, a, dst, mapped)
		checkOnDelete(d, c, a, objs, dst, deleteEvents[a.Trigger])
		if dst != nil && (a.Op == OpCreate || a.Op == OpUpsert) {
			for _, f := range sortedKeys(dst.Fields) {
				if dst.Fields[f].Required && !mapped[f] {
					d.errorAt(a.Meta.At("mapping"), "%s.%s requires %s, which no mapping row writes", a.Provider, a.Object, f)
				}
			}
		}
	}
}

// checkOnConflict: conflicts are found by reading each two-way target
// before it is updated, so each needs a get endpoint.
func checkOnConflict(d *decoder, c *Contract, sources map[string]*Object, sourceProviders map[string]*Provider) {
	if c.OnConflict == "" {
		return
	}
	if c.Direction != TwoWay {
		d.errorAt(c.Meta.At("on_conflict"), "on_conflict applies to two-way contracts (direction: two_way), where both sides may change a field")
		return
	}
	for _, a := range c.Actions {
		if a == nil {
			continue
		}
		for _, name := range sortedKeys(sources) {
			o, p := sources[name], sourceProviders[name]
			if p != nil && p.Name == a.Provider && o.Name == a.Object && o.Endpoints.Get == nil {
				d.errorAt(a.Meta.At("object"), "on_conflict reads %s.%s before updating it, but it has no get endpoint (objects.%s.endpoints.get in the provider's manifest)", a.Provider, a.Object, a.Object)
				break
			}
		}
	}
}

// checkOnDelete: a delete policy must be one the target can carry out,
// and must have a deletion to react to.
func checkOnDelete(d *decoder, c *Contract, a *Action, objs []*Object, dst *Object, deletes []string) {
	if a.OnDelete == "" {
		return
	}
	if len(deletes) == 0 {
		d.errorAt(a.Meta.At("on_delete"), "on_delete never applies: trigger %s receives no event that reports a deletion; "+
			"add one to the trigger's events (the provider marks it `deletes: true`, e.g. customer.deleted) or remove on_delete", a.Trigger)
	}
	if dst == nil {
		return
	}
	switch a.DeletePolicy() {
	case DeletePropagate:
		if dst.Endpoints.Delete == nil {
			d.errorAt(a.Meta.At("on_delete"), "on_delete: propagate needs a delete endpoint on %s.%s (objects.%s.endpoints.delete in the provider's manifest)", a.Provider, a.Object, a.Object)
		}
	case DeleteMark:
		if dst.Endpoints.Update == nil {
			d.errorAt(a.Meta.At("on_delete"), "on_delete: mark writes the target: it needs an update endpoint on %s.%s", a.Provider, a.Object)
		}
		for _, r := range a.DeleteMark {
			if r != nil {
				checkRow(d, c, a, r, objs, dst)
			}
		}
	}
}

// checkDuplicates holds a create or upsert to the guarantee "at most one
// target per source record, however often an event is delivered": the
// engine keeps it by finding an earlier target (find_by_external_id) or by
// an idempotency key the partner honours. Without either, a retry after a
// lost answer creates a second target, and the contract must say it
// accepts that (duplicates: {policy: tolerated, reason: …}).
func checkDuplicates(d *decoder, c *Contract, a *Action, dst *Object) {
	checkDuplicatesReason(d, a.Duplicates)
	if a.Duplicates != nil && a.Op == OpUpdate {
		d.errorAt(a.Duplicates.Meta.Pos, "`duplicates` applies to create and upsert; an update never creates a target: remove it")
	}
	if dst == nil || (a.Op != OpCreate && a.Op != OpUpsert) || c.DuplicatesOf(a).Tolerated() {
		return
	}
	if dst.Endpoints.FindByExternalID != nil || (dst.Endpoints.Create != nil && dst.Endpoints.Create.IdempotencyHeader != "") {
		return
	}
	if dst.Endpoints.Find != nil && len(a.MatchOn) > 0 {
		return
	}
	if dst.Endpoints.Create == nil {
		return // reported as a missing endpoint already
	}
	d.errorAt(a.Meta.At("op"), "%s on %s.%s cannot promise one %s per source record: a retry after a lost answer creates a second one, "+
		"because %s.%s has neither a find_by_external_id endpoint nor an idempotency_header on its create endpoint, and the action has no `match_on` over a find endpoint; "+
		"add one of them, or declare on this action `duplicates: {policy: tolerated, reason: \"…\"}`",
		a.Op, a.Provider, a.Object, a.Object, a.Provider, a.Object)
}

// checkDuplicatesReason: tolerating duplicates is a decision someone must
// be able to read back, so it needs its reason.
func checkDuplicatesReason(d *decoder, dp *Duplicates) {
	if dp.Tolerated() && strings.TrimSpace(dp.Reason) == "" {
		d.errorAt(dp.Meta.At("policy"), "duplicates tolerated needs a `reason:` saying why a second target is acceptable (it is shown by contract explain)")
	}
}

func checkCondition(d *decoder, obj *Object, meta Meta, expr string) {
	if expr == "" {
		return
	}
	ast := compileAt(d, []*Object{obj}, meta, "condition", expr)
	if ast != nil && !ast.OutputType().IsAssignableType(cel.BoolType) && ast.OutputType().Kind() != cel.DynKind {
		d.errorAt(meta.At("condition"), "condition must be true or false, but it is %s", ast.OutputType())
	}
}

func checkRow(d *decoder, c *Contract, a *Action, r *Row, objs []*Object, dst *Object) {
	var src *Object
	if len(objs) > 0 {
		src = objs[0]
	}
	var target *Field
	if dst != nil {
		target = dst.Lookup(r.To)
		if target == nil {
			top, _, _ := strings.Cut(r.To, ".")
			d.errorAt(r.Meta.At("to"), "%s has no field %s%s", dst.Name, r.To, didYouMean(top, sortedKeys(dst.Fields)))
		} else {
			if owner := c.OwnerOf(a.Provider, a.Object, r.To); owner == a.Provider {
				d.errorAt(r.Meta.At("to"), "%s.%s is owned by %s, so this contract never writes it", dst.Name, r.To, owner)
			}
			if target.ReadOnly {
				d.errorAt(r.Meta.At("to"), "%s.%s is read-only at %s", dst.Name, r.To, a.Provider)
			}
		}
	}
	outType := r.Type
	if outType == "" && target != nil {
		outType = target.Type
	}

	var srcField *Field
	switch {
	case r.From != "" && src != nil:
		head, path, _ := strings.Cut(r.From, ".")
		from := objectNamed(objs, head)
		if from == nil {
			d.errorAt(r.Meta.At("from"), "`from` must start with the trigger's object, %s (e.g. %s.%s)%s", src.Name, src.Name, firstOr(sortedKeys(src.Fields), "id"), enrichHint(objs))
			break
		}
		srcField = lookupReport(d, r.Meta.At("from"), from, path)
	case r.Expr != "" && src != nil:
		ast := compileAt(d, objs, r.Meta, "expr", r.Expr)
		// An explicit `type: string` converts any scalar result to text.
		explicitString := r.Type == TypeString && ast != nil && isScalar(ast.OutputType())
		if ast != nil && outType != "" && !explicitString && !Assignable(outType, ast.OutputType()) {
			d.errorAt(r.Meta.At("expr"), "%s is %s but the expression gives %s%s", r.To, outType, ast.OutputType(), convertHint(outType, ast.OutputType()))
		}
	}

	if len(r.Enum.Pairs) > 0 {
		if srcField != nil && len(srcField.Enum) > 0 {
			vals := enumStrings(srcField.Enum)
			for _, p := range r.Enum.Pairs {
				if !contains(vals, p.From) {
					d.errorAt(r.Enum.pos[p.From], "%s has no value %s%s", r.From, p.From, didYouMean(p.From, vals))
				}
			}
		}
		for _, p := range r.Enum.Pairs {
			checkValue(d, r.Enum.pos[p.From], r.To, outType, target, r.Allowed, p.To)
		}
	}
	if r.HasDefault() && r.Default != nil {
		checkValue(d, r.Meta.At("default"), r.To, outType, target, r.Allowed, r.Default)
	}
	if target != nil && len(target.Enum) > 0 {
		for _, v := range r.Allowed {
			if !containsValue(target.Enum, v) {
				d.errorAt(r.Meta.At("allowed"), "%v is not a value %s.%s accepts (%s)", v, dst.Name, r.To, joinValues(target.Enum))
				break
			}
		}
	}
}

// checkValue checks a constant the row may write: it must convert to the
// target type and be an allowed value.
func checkValue(d *decoder, pos Pos, to, typ string, target *Field, allowed []any, v any) {
	cv, err := ConvertValue(typ, v)
	if err != nil {
		d.errorAt(pos, "%s: %v", to, err)
		return
	}
	if len(allowed) > 0 && !containsValue(allowed, cv) {
		d.errorAt(pos, "%s: %v is not in allowed (%s)", to, v, joinValues(allowed))
	} else if target != nil && len(target.Enum) > 0 && !containsValue(target.Enum, cv) {
		d.errorAt(pos, "%s: %v is not a value the target accepts (%s)", to, v, joinValues(target.Enum))
	}
}

// lookupReport resolves a field path below obj, reporting the first segment
// that does not exist with a suggestion.
func lookupReport(d *decoder, pos Pos, obj *Object, path string) *Field {
	fields, owner := obj.Fields, obj.Name
	var f *Field
	for _, seg := range strings.Split(path, ".") {
		if f != nil && f.Type == TypeObject && len(f.Fields) == 0 {
			return &Field{Type: TypeObject}
		}
		if f != nil && f.Type != TypeObject {
			d.errorAt(pos, "%s is a %s and has no field %s", owner, f.Type, seg)
			return nil
		}
		f = fields[seg]
		if f == nil {
			d.errorAt(pos, "%s has no field %s%s", owner, seg, didYouMean(seg, sortedKeys(fields)))
			return nil
		}
		fields, owner = f.Fields, owner+"."+seg
	}
	return f
}

// compileAt compiles and type-checks expr in obj's environment, reporting
// issues at their position inside the YAML value.
func compileAt(d *decoder, objs []*Object, meta Meta, key, expr string) *cel.Ast {
	env, err := CELEnvFor(objs...)
	if err != nil {
		d.errorAt(meta.At(key), "%v", err)
		return nil
	}
	ast, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		for _, e := range iss.Errors() {
			d.errorAt(exprPos(meta, key, e.Location.Line(), e.Location.Column()), "invalid expression: %s", e.Message)
			break // the first issue is the cause; the rest repeat it
		}
		return nil
	}
	for _, obj := range objs {
		checkFieldRefs(d, obj, meta, key, ast)
	}
	return ast
}

// checkFieldRefs reports fields an expression reads that obj does not
// have. The object is also declared as a map of dyn (so that optional and
// undeclared nested data stay reachable), which makes the type checker
// accept `ticket.stauts` silently: it would read nothing at run time, and a
// condition over it would quietly never (or always) match. The checker
// rewrites every declared field path into one identifier
// ("ticket.status"); what is left as a selection on the object, or on one
// of its declared paths, names a field that does not exist.
func checkFieldRefs(d *decoder, obj *Object, meta Meta, key string, ast *cel.Ast) {
	native := ast.NativeRep()
	info := native.SourceInfo()
	var visit func(e celast.Expr)
	visit = func(e celast.Expr) {
		switch e.Kind() {
		case celast.SelectKind:
			var fields []string
			cur := e
			for cur.Kind() == celast.SelectKind {
				fields = append([]string{cur.AsSelect().FieldName()}, fields...)
				cur = cur.AsSelect().Operand()
			}
			if cur.Kind() != celast.IdentKind {
				visit(cur)
				return
			}
			root, rest, _ := strings.Cut(cur.AsIdent(), ".")
			if root != obj.Name {
				return
			}
			path := append(strings.Split(rest, "."), fields...)
			if rest == "" {
				path = fields
			}
			loc := info.GetStartLocation(e.ID())
			pos := exprPos(meta, key, loc.Line(), loc.Column())
			lookupReport(d, pos, obj, strings.Join(path, "."))
		case celast.CallKind:
			c := e.AsCall()
			if c.IsMemberFunction() {
				visit(c.Target())
			}
			for _, a := range c.Args() {
				visit(a)
			}
		case celast.ListKind:
			for _, el := range e.AsList().Elements() {
				visit(el)
			}
		case celast.MapKind:
			for _, en := range e.AsMap().Entries() {
				me := en.AsMapEntry()
				visit(me.Key())
				visit(me.Value())
			}
		case celast.ComprehensionKind:
			c := e.AsComprehension()
			visit(c.IterRange())
			visit(c.AccuInit())
			visit(c.LoopCondition())
			visit(c.LoopStep())
			visit(c.Result())
		}
	}
	visit(native.Expr())
}

// exprPos maps a CEL location (1-based line, 0-based column) inside a YAML
// scalar to a file position.
func exprPos(meta Meta, key string, line, col int) Pos {
	n := meta.node(key)
	if n == nil {
		return meta.At(key)
	}
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		return Pos{n.Line + line, n.Column + 2}
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		if line <= 1 {
			return Pos{n.Line, n.Column + 1 + col}
		}
	default:
		if line <= 1 {
			return Pos{n.Line, n.Column + col}
		}
	}
	return Pos{n.Line + line - 1, n.Column}
}

func seqItemPos(meta Meta, key string, i int) Pos {
	if n := meta.node(key); n != nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
		return Pos{n.Content[i].Line, n.Content[i].Column}
	}
	return meta.At(key)
}

func enumStrings(vals []any) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = fmt.Sprint(v)
	}
	return out
}

func joinValues(vals []any) string { return strings.Join(enumStrings(vals), ", ") }

// containsValue compares JSON-shaped values, treating 2 and 2.0 as equal.
func containsValue(vals []any, v any) bool {
	for _, x := range vals {
		if reflect.DeepEqual(x, v) || fmt.Sprint(x) == fmt.Sprint(v) {
			return true
		}
	}
	return false
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}
