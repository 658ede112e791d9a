package mapping

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"

	"github.com/accordhq/accord/internal/spec"
)

// Errors callers branch on; every FieldError wraps one of them.
var (
	// ErrMissing: a required target field has no value and no default.
	ErrMissing = errors.New("missing")
	// ErrNotAllowed: the value is outside the allowed values.
	ErrNotAllowed = errors.New("not an allowed value")
	// ErrUnmapped: the source value has no row in the enum map and no default.
	ErrUnmapped = errors.New("no mapping for value")
	// ErrExpr: a CEL expression failed at run time (cost limit, bad input).
	ErrExpr = errors.New("expression failed")
)

// FieldError is a failure of one target field. Its message starts with the
// field: "severity: cannot convert \"abc\" to int".
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Config tunes a Mapper. The zero value is ready to use.
type Config struct {
	// Skip lists target fields never written, e.g. those the target owns
	// (Contract.TargetOwned). Default: none.
	Skip []string
	// Defaults overrides rows' defaults by target field (a pack's
	// recommended configuration or an installation's override). Default: none.
	Defaults map[string]any
	// CostLimit bounds each CEL evaluation (cel-go cost units).
	// Default 100_000: far above any sensible mapping, far below a hang.
	CostLimit uint64
	// Related are the objects the action enriches the source with (its
	// enrich list, in order): rows read them by name, and MapWith
	// supplies their documents. Default: none.
	Related []*spec.Object
}

// Result is one mapped record.
type Result struct {
	// Doc is the target document; dotted `to` paths become nested objects.
	Doc map[string]any
	// Unknown counts source fields the object does not declare (ignored).
	Unknown int
	// UnknownFields names them, sorted, for logs (names only, never values).
	UnknownFields []string
}

// Mapper is a compiled mapping table. It is safe for concurrent use.
type Mapper struct {
	src, dst *spec.Object
	objs     []*spec.Object // src, then the related objects
	rows     []row
	fields   []string
}

type row struct {
	to        []string // path segments
	toName    string
	from      string // path below the source object
	fromObj   int    // index in Mapper.objs of the object from reads
	at        string // file:line:col of the row, for run-time errors
	prg       cel.Program
	env       *cel.Env // with ast: to explain a run-time failure
	ast       *cel.Ast
	typ       string
	enum      *spec.EnumMap
	allowed   []any
	def       any
	hasDef    bool
	required  bool
	constOnly bool
}

// New compiles action a, which reads src and writes dst. The action is
// expected to have passed spec validation; New still reports any problem
// it meets rather than failing later.
func New(a *spec.Action, src, dst *spec.Object, cfg *Config) (*Mapper, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	limit := cfg.CostLimit
	if limit == 0 {
		limit = 100_000
	}
	skip := map[string]bool{}
	for _, f := range cfg.Skip {
		skip[f] = true
	}
	objs := append([]*spec.Object{src}, cfg.Related...)
	env, err := spec.CELEnvFor(objs...)
	if err != nil {
		return nil, fmt.Errorf("mapping %s: %w", a.Name, err)
	}
	m := &Mapper{src: src, dst: dst, objs: objs}
	for _, r := range a.Mapping {
		top, _, _ := strings.Cut(r.To, ".")
		if skip[r.To] || skip[top] {
			continue
		}
		cr := row{to: strings.Split(r.To, "."), toName: r.To, typ: r.Type, allowed: r.Allowed, def: r.Default, hasDef: r.HasDefault()}
		if r.Meta.File != "" {
			p := r.Meta.At("expr")
			cr.at = fmt.Sprintf("%s:%d:%d", r.Meta.File, p.Line, p.Col)
		}
		if v, ok := cfg.Defaults[r.To]; ok {
			cr.def, cr.hasDef = v, true
		}
		if len(r.Enum.Pairs) > 0 {
			cr.enum = &r.Enum
		}
		if f := dst.Lookup(r.To); f != nil {
			if cr.typ == "" {
				cr.typ = f.Type
			}
			if len(cr.allowed) == 0 {
				cr.allowed = f.Enum
			}
			cr.required = f.Required && len(cr.to) == 1
		}
		switch {
		case r.From != "":
			cr.from = r.FromField()
			head, _, _ := strings.Cut(r.From, ".")
			for i, o := range objs {
				if o.Name == head {
					cr.fromObj = i
				}
			}
		case r.Expr != "":
			ast, iss := env.Compile(r.Expr)
			if iss != nil && iss.Err() != nil {
				return nil, fmt.Errorf("mapping %s: %s: %w", a.Name, r.To, iss.Err())
			}
			cr.env, cr.ast = env, ast
			cr.prg, err = env.Program(ast, cel.CostLimit(limit))
			if err != nil {
				return nil, fmt.Errorf("mapping %s: %s: %w", a.Name, r.To, err)
			}
		default:
			cr.constOnly = true
		}
		m.rows = append(m.rows, cr)
		m.fields = append(m.fields, r.To)
	}
	return m, nil
}

// Fields lists the target fields the mapper writes, in table order.
func (m *Mapper) Fields() []string { return append([]string(nil), m.fields...) }

// Map applies the table to one source record. Every failing field is
// reported (errors.Join of *FieldError), so an admin fixes them in one go.
func (m *Mapper) Map(src map[string]any) (Result, error) {
	return m.MapWith(src, nil)
}

// MapWith is Map with the documents of the related objects, by object
// name; a related object missing from related reads as absent.
func (m *Mapper) MapWith(src map[string]any, related map[string]map[string]any) (Result, error) {
	res := Result{Doc: make(map[string]any, len(m.rows))}
	var errs []error
	var act any
	docs := make([]map[string]any, len(m.objs))
	docs[0] = src
	for i, o := range m.objs[1:] {
		docs[i+1] = related[o.Name]
		if docs[i+1] == nil {
			docs[i+1] = map[string]any{}
		}
	}
	for i := range m.rows {
		r := &m.rows[i]
		v, present, err := m.source(r, docs, &act)
		if err != nil {
			errs = append(errs, &FieldError{Field: r.toName, Err: err})
			continue
		}
		v, present, err = r.apply(v, present)
		if err != nil {
			errs = append(errs, &FieldError{Field: r.toName, Err: err})
			continue
		}
		if present {
			setPath(res.Doc, r.to, v)
		}
	}
	res.UnknownFields = unknown(m.src.Fields, src, "")
	res.Unknown = len(res.UnknownFields)
	return res, errors.Join(errs...)
}

func (m *Mapper) source(r *row, docs []map[string]any, act *any) (any, bool, error) {
	switch {
	case r.constOnly:
		return nil, false, nil
	case r.prg != nil:
		if *act == nil {
			*act = spec.ActivationFor(m.objs, docs)
		}
		out, _, err := r.prg.Eval((*act).(interpreter.Activation))
		if err != nil {
			if strings.Contains(err.Error(), "no such attribute") || strings.Contains(err.Error(), "no such key") {
				// The expression reads a field this record lacks: same as a
				// missing source field, so the default applies.
				return nil, false, nil
			}
			return nil, false, r.exprError(err, (*act).(interpreter.Activation))
		}
		v, err := native(out)
		if err != nil {
			return nil, false, r.exprError(err, nil)
		}
		return v, v != nil, nil
	}
	v, ok := spec.Get(docs[r.fromObj], r.from)
	return v, ok && v != nil, nil
}

// apply runs value map, default, type conversion and allowed values.
func (r *row) apply(v any, present bool) (any, bool, error) {
	if present && r.enum != nil {
		mapped, ok := r.enum.Lookup(fmt.Sprint(v))
		switch {
		case ok:
			v = mapped
		case r.hasDef:
			present = false
		default:
			return nil, false, fmt.Errorf("%w %q (known: %s)", ErrUnmapped, fmt.Sprint(v), enumKeys(r.enum))
		}
	}
	if !present {
		if !r.hasDef || r.def == nil {
			if r.required {
				return nil, false, fmt.Errorf("%w in the source and no default", ErrMissing)
			}
			return nil, false, nil
		}
		v = r.def
	}
	cv, err := spec.ConvertValue(r.typ, v)
	if err != nil {
		return nil, false, err
	}
	if len(r.allowed) > 0 && !allowed(r.allowed, cv) {
		return nil, false, fmt.Errorf("%w: %v (allowed: %s)", ErrNotAllowed, cv, join(r.allowed))
	}
	return cv, true, nil
}

var (
	mapType  = reflect.TypeOf(map[string]any{})
	listType = reflect.TypeOf([]any{})
)

// native turns a CEL result into a JSON-shaped Go value.
func native(v ref.Val) (any, error) {
	switch v.Type() {
	case types.NullType:
		return nil, nil
	case types.MapType:
		return v.ConvertToNative(mapType)
	case types.ListType:
		return v.ConvertToNative(listType)
	case types.IntType:
		return int64(v.(types.Int)), nil
	case types.UintType:
		return int64(v.(types.Uint)), nil
	}
	return v.Value(), nil
}

func setPath(doc map[string]any, path []string, v any) {
	for _, seg := range path[:len(path)-1] {
		next, ok := doc[seg].(map[string]any)
		if !ok {
			next = map[string]any{}
			doc[seg] = next
		}
		doc = next
	}
	doc[path[len(path)-1]] = v
}

// unknown lists source fields not declared on the object, descending into
// declared object fields that declare their own fields.
func unknown(fields map[string]*spec.Field, src map[string]any, prefix string) []string {
	var out []string
	for k, v := range src {
		f := fields[k]
		switch {
		case f == nil:
			out = append(out, prefix+k)
		case f.Type == spec.TypeObject && len(f.Fields) > 0:
			if sub, ok := v.(map[string]any); ok {
				out = append(out, unknown(f.Fields, sub, prefix+k+".")...)
			}
		}
	}
	sort.Strings(out)
	return out
}

func allowed(vals []any, v any) bool {
	s := fmt.Sprint(v)
	for _, a := range vals {
		if fmt.Sprint(a) == s {
			return true
		}
	}
	return false
}

func join(vals []any) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, ", ")
}

func enumKeys(e *spec.EnumMap) string {
	keys := make([]string, len(e.Pairs))
	for i, p := range e.Pairs {
		keys[i] = p.From
	}
	return strings.Join(keys, ", ")
}
