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
func CELEnv(obj *Object) (*cel.Env, error) {
	if env, ok := envCache.Load(obj); ok {
		return env.(*cel.Env), nil
	}
	env, err := newCELEnv(obj)
	if err != nil {
		return nil, err
	}
	envCache.Store(obj, env)
	return env, nil
}

var envCache sync.Map // *Object → *cel.Env

func newCELEnv(obj *Object) (*cel.Env, error) {
	opts := []cel.EnvOption{
		cel.Variable(obj.Name, cel.MapType(cel.StringType, cel.DynType)),
		// String helpers (split, lowerAscii, format…) are what mappings need
		// most; they are pure and cost-accounted.
		ext.Strings(),
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
	walk(obj.Name, obj.Fields)
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, fmt.Errorf("building CEL environment for %s: %w", obj.Name, err)
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

type activation struct {
	obj *Object
	doc map[string]any
}

func (a *activation) Parent() interpreter.Activation { return nil }

func (a *activation) ResolveName(name string) (any, bool) {
	if name == a.obj.Name {
		return a.doc, true
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
