package spec

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"
)

// CELEnv builds the CEL environment for expressions over obj. The object is
// a variable named after it (ticket), typed map(string, dyn) so has() and
// indexing work; every declared field path is also a typed variable
// (ticket.title: string) so the checker rejects `1 + ticket.title`.
// Evaluate programs with Activation, which supplies both.
//
// Environments are cached per *Object (building one costs about a
// millisecond): objects must not be modified after loading.
func CELEnv(obj *Object) (*cel.Env, error) { return CELEnvFor(obj) }

// CELEnvFor is CELEnv over several objects: the trigger's object and the
// related objects an action enriches it with, each a variable named after
// its object. Cached per list of objects.
func CELEnvFor(objs ...*Object) (*cel.Env, error) {
	key := fmt.Sprint(objs)
	if len(objs) == 1 {
		key = ""
	}
	cacheKey := envKey{first: objs[0], rest: key}
	if env, ok := envCache.Load(cacheKey); ok {
		return env.(*cel.Env), nil
	}
	env, err := newCELEnv(objs)
	if err != nil {
		return nil, err
	}
	envCache.Store(cacheKey, env)
	return env, nil
}

type envKey struct {
	first *Object
	rest  string
}

var envCache sync.Map // envKey → *cel.Env

func newCELEnv(objs []*Object) (*cel.Env, error) {
	opts := []cel.EnvOption{
		// String helpers (split, lowerAscii, format…) are what mappings need
		// most; lists and math add aggregates (sum, math.greatest,
		// math.round…). All are pure and cost-accounted.
		ext.Strings(),
		ext.Lists(),
		ext.Math(),
		sumFunction(),
	}
	var walk func(prefix string, fields map[string]*Field)
	walk = func(prefix string, fields map[string]*Field) {
		for _, name := range sortedKeys(fields) {
			f := fields[name]
			path := prefix + "." + name
			opts = append(opts, cel.Variable(path, CELType(f.Type)))
			if f.Type == TypeObject && len(f.Fields) > 0 {
				walk(path, f.Fields)
			}
		}
	}
	for _, obj := range objs {
		opts = append(opts, cel.Variable(obj.Name, cel.MapType(cel.StringType, cel.DynType)))
		walk(obj.Name, obj.Fields)
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, fmt.Errorf("building CEL environment for %s: %w", objs[0].Name, err)
	}
	return env, nil
}

// CELType is the CEL type of a field type.
func CELType(fieldType string) *cel.Type {
	switch fieldType {
	case TypeString:
		return cel.StringType
	case TypeInt:
		return cel.IntType
	case TypeFloat:
		return cel.DoubleType
	case TypeBool:
		return cel.BoolType
	case TypeTimestamp:
		return cel.TimestampType
	case TypeObject:
		return cel.MapType(cel.StringType, cel.DynType)
	case TypeList:
		return cel.ListType(cel.DynType)
	}
	return cel.DynType
}

// Assignable reports whether a CEL expression of type t may be written to a
// field of fieldType. A dyn result is checked when the row is evaluated.
func Assignable(fieldType string, t *cel.Type) bool {
	if t == nil || t.Kind() == types.DynKind || t.Kind() == types.NullTypeKind {
		return true
	}
	want := CELType(fieldType)
	if want.IsAssignableType(t) {
		return true
	}
	// An int is a fine float; a timestamp may be written as text.
	return (fieldType == TypeFloat && t.Kind() == types.IntKind) ||
		(fieldType == TypeString && t.Kind() == types.TimestampKind)
}

// ErrMissingField is returned by evaluation when an expression reads a
// field the source document does not have.
var ErrMissingField = fmt.Errorf("spec: source field missing")

// Activation supplies doc (a decoded JSON object) to programs compiled in
// CELEnv(obj). Values are converted to their declared types on access:
// JSON numbers become int for int fields, RFC 3339 strings become
// timestamps. Only fields an expression reads are converted.
func Activation(obj *Object, doc map[string]any) interpreter.Activation {
	return &activation{obj: obj, doc: doc}
}

// ActivationFor supplies one document per object to programs compiled in
// CELEnvFor(objs...); docs[i] belongs to objs[i].
func ActivationFor(objs []*Object, docs []map[string]any) interpreter.Activation {
	if len(objs) == 1 {
		return Activation(objs[0], docs[0])
	}
	acts := make([]*activation, len(objs))
	for i := range objs {
		acts[i] = &activation{obj: objs[i], doc: docs[i]}
	}
	return multiActivation(acts)
}

type multiActivation []*activation

func (m multiActivation) Parent() interpreter.Activation { return nil }

func (m multiActivation) ResolveName(name string) (any, bool) {
	root, _, _ := strings.Cut(name, ".")
	for _, a := range m {
		if a.obj.Name == root {
			return a.ResolveName(name)
		}
	}
	return nil, false
}

type activation struct {
	obj *Object
	doc map[string]any
}

func (a *activation) Parent() interpreter.Activation { return nil }

func (a *activation) ResolveName(name string) (any, bool) {
	if name == a.obj.Name {
		return convertDeep(&Field{Type: TypeObject, Fields: a.obj.Fields}, a.doc), true
	}
	path, ok := strings.CutPrefix(name, a.obj.Name+".")
	if !ok {
		return nil, false
	}
	v, found := Get(a.doc, path)
	if !found || v == nil {
		return nil, false
	}
	f := a.obj.Lookup(path)
	if f == nil {
		return v, true
	}
	if f.Type == TypeList || f.Type == TypeObject {
		return convertDeep(f, v), true
	}
	if c, err := ConvertForCEL(f.Type, v); err == nil {
		return c, true
	}
	// The wrong JSON type: hand the raw value over and let CEL report a
	// typed error naming the operation, rather than pretending it is absent.
	return v, true
}

// ConvertForCEL converts a JSON value to the Go value CEL expects for a
// field type.
func ConvertForCEL(fieldType string, v any) (any, error) {
	switch fieldType {
	case TypeInt:
		switch n := v.(type) {
		case float64:
			if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
				return int64(n), nil
			}
		case int64:
			return n, nil
		case int:
			return int64(n), nil
		case json.Number:
			return n.Int64()
		}
	case TypeFloat:
		switch n := v.(type) {
		case float64:
			return n, nil
		case int64:
			return float64(n), nil
		case int:
			return float64(n), nil
		case json.Number:
			return n.Float64()
		}
	case TypeTimestamp:
		switch t := v.(type) {
		case time.Time:
			return t, nil
		case string:
			return time.Parse(time.RFC3339Nano, t)
		}
	default:
		return v, nil
	}
	return nil, fmt.Errorf("cannot use %T as %s", v, fieldType)
}

// Get walks a dotted path through nested maps.
func Get(doc map[string]any, path string) (any, bool) {
	var cur any = doc
	for path != "" {
		seg, rest, _ := strings.Cut(path, ".")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[seg]
		if !ok {
			return nil, false
		}
		path = rest
	}
	return cur, true
}

// convertDeep converts the declared fields inside an object or list value
// (list elements by the list's items schema) to their CEL types, so a
// declared int is an int whether it is read as a top-level field or inside
// a list element; undeclared numbers stay JSON's double. The value is
// copied only where something is converted.
func convertDeep(f *Field, v any) any {
	switch t := v.(type) {
	case map[string]any:
		if f.Type != TypeObject || len(f.Fields) == 0 {
			return v
		}
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = x
			sub := f.Fields[k]
			if sub == nil || x == nil {
				continue
			}
			switch sub.Type {
			case TypeObject, TypeList:
				out[k] = convertDeep(sub, x)
			default:
				if c, err := ConvertForCEL(sub.Type, x); err == nil {
					out[k] = c
				}
			}
		}
		return out
	case []any:
		if f.Type != TypeList || f.Items == nil {
			return v
		}
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = x
			if x == nil {
				continue
			}
			switch f.Items.Type {
			case TypeObject, TypeList:
				out[i] = convertDeep(f.Items, x)
			default:
				if c, err := ConvertForCEL(f.Items.Type, x); err == nil {
					out[i] = c
				}
			}
		}
		return out
	}
	return v
}

// sumFunction adds list.sum(): the sum of a list of numbers, an int for a
// list(int), a double otherwise (a list mixing ints and doubles sums as
// double). CEL has no fold; with map() it covers totals such as MRR:
// items.map(i, i.price * i.quantity).sum().
func sumFunction() cel.EnvOption {
	impl := func(v ref.Val) ref.Val {
		l, ok := v.(traits.Lister)
		if !ok {
			return types.NewErr("sum: %s is not a list", v.Type().TypeName())
		}
		var isum int64
		var fsum float64
		double := false
		it := l.Iterator()
		for it.HasNext() == types.True {
			switch n := it.Next().(type) {
			case types.Int:
				isum += int64(n)
			case types.Uint:
				isum += int64(n)
			case types.Double:
				double = true
				fsum += float64(n)
			default:
				return types.NewErr("sum: list element is %s, not a number", n.Type().TypeName())
			}
		}
		if double {
			return types.Double(fsum + float64(isum))
		}
		return types.Int(isum)
	}
	return cel.Function("sum",
		cel.MemberOverload("list_int_sum", []*cel.Type{cel.ListType(cel.IntType)}, cel.IntType, cel.UnaryBinding(impl)),
		cel.MemberOverload("list_double_sum", []*cel.Type{cel.ListType(cel.DoubleType)}, cel.DoubleType, cel.UnaryBinding(impl)),
	)
}
