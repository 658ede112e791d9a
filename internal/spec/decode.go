package spec

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Pos is a 1-based line and column in a file.
type Pos struct {
	Line, Col int
}

// Meta records where a mapping and each of its values were found, so checks
// that run after decoding (references, CEL) can point at the exact value.
type Meta struct {
	File string
	Pos  Pos
	keys map[string]Pos
	// nodes keeps the value nodes of scalar keys holding expressions, so CEL
	// issue offsets can be mapped back into the file.
	nodes map[string]*yaml.Node
}

// At returns the position of the value under key, or of the mapping itself
// when the key is absent.
func (m Meta) At(key string) Pos {
	if p, ok := m.keys[key]; ok {
		return p
	}
	return m.Pos
}

// Has reports whether key was written in the file (even with a null value):
// it tells `default: null` apart from no default at all.
func (m Meta) Has(key string) bool {
	_, ok := m.keys[key]
	return ok
}

func (m Meta) node(key string) *yaml.Node { return m.nodes[key] }

// nodeDecoder is implemented by types that read themselves from a node
// (durations, byte sizes, ordered maps). They report problems through d.
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node)
}

// maxNodes bounds the work done on one file: alias expansion can make a
// small hostile file describe an enormous tree.
const maxNodes = 200_000

type decoder struct {
	file    string
	diags   Diagnostics
	visited int
	// rejected holds positions of values the decoder refused, so semantic
	// checks do not pile a second message on the same cause.
	rejected map[Pos]bool
	// failed names providers ("provider:crm") whose files did not load:
	// references to them are not reported again.
	failed map[string]bool
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	if d.rejected == nil {
		d.rejected = map[Pos]bool{}
	}
	d.rejected[Pos{line, col}] = true
	d.diags = append(d.diags, Diagnostic{File: d.file, Line: line, Col: col, Message: fmt.Sprintf(format, args...)})
}

// errorAt reports a semantic problem. A value the decoder already rejected
// is not reported again: one cause, one line.
func (d *decoder) errorAt(p Pos, format string, args ...any) {
	if d.rejected[p] {
		return
	}
	d.diags = append(d.diags, Diagnostic{File: d.file, Line: p.Line, Col: p.Col, Message: fmt.Sprintf(format, args...)})
}

// warnAt reports something that works but may not be what the author
// meant.
func (d *decoder) warnAt(p Pos, format string, args ...any) {
	d.diags = append(d.diags, Diagnostic{File: d.file, Line: p.Line, Col: p.Col, Warning: true, Message: fmt.Sprintf(format, args...)})
}

var metaType = reflect.TypeOf(Meta{})

// structField describes one YAML key of a struct, read from its tags.
type structField struct {
	index    int
	name     string
	required bool
	enum     []string
}

type structInfo struct {
	fields map[string]structField
	names  []string // in declaration order, for "valid keys" messages
	meta   int      // index of the Meta field, or -1
}

var structInfos sync.Map // reflect.Type → *structInfo

func infoFor(t reflect.Type) *structInfo {
	if v, ok := structInfos.Load(t); ok {
		return v.(*structInfo)
	}
	info := &structInfo{fields: map[string]structField{}, meta: -1}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Type == metaType {
			info.meta = i
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		sf := structField{index: i, name: name}
		for _, opt := range strings.Split(f.Tag.Get("jsonschema"), ",") {
			switch {
			case opt == "required":
				sf.required = true
			case strings.HasPrefix(opt, "enum="):
				sf.enum = append(sf.enum, strings.TrimPrefix(opt, "enum="))
			}
		}
		info.fields[name] = sf
		info.names = append(info.names, name)
	}
	structInfos.Store(t, info)
	return info
}

// decode reads n into v, reporting every problem and carrying on, so one
// run shows all of a file's mistakes.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, depth int) {
	d.visited++
	if d.visited > maxNodes || depth > 64 {
		if d.visited == maxNodes+1 || depth == 65 {
			d.errorf(n, "document is too large or too deeply nested")
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return
		}
		n = n.Alias
	}
	if v.CanAddr() {
		if nd, ok := v.Addr().Interface().(nodeDecoder); ok {
			nd.decodeNode(d, n)
			return
		}
	}
	switch k := v.Kind(); {
	case isNull(n) && (k == reflect.String || k == reflect.Bool || k == reflect.Int || k == reflect.Int64 || k == reflect.Float64):
		// A key or `-` with nothing after it: say so, and how to fix it,
		// rather than "expected a string, got nothing".
		d.errorf(n, "no value here: expected %s; fill it in or remove it", expected(v.Type()))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), depth+1)
	case reflect.Struct:
		d.decodeStruct(n, v, depth)
	case reflect.Map:
		if isNull(n) {
			return
		}
		if n.Kind != yaml.MappingNode {
			d.errorf(n, "expected a mapping of names to values, got %s", describe(n))
			return
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				d.errorf(k, "expected a name, got %s", describe(k))
				continue
			}
			if seen[k.Value] {
				d.errorf(k, "duplicate key `%s`", k.Value)
				continue
			}
			seen[k.Value] = true
			if isNull(val) && needsValue(v.Type().Elem()) {
				// A key with nothing after it would leave a nil entry that
				// every later check, explain and the engine trip over.
				d.errorf(nullPos(k, val), "`%s` has no value: expected %s; fill it in or remove `%s`", k.Value, expected(v.Type().Elem()), k.Value)
				continue
			}
			elem := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, elem, depth+1)
			v.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), elem)
		}
	case reflect.Slice:
		if isNull(n) {
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, "expected a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), 0, len(n.Content))
		for _, item := range n.Content {
			if isNull(item) && needsValue(v.Type().Elem()) {
				d.errorf(item, "empty list item: expected %s; fill it in or delete the `-` line", expected(v.Type().Elem()))
				continue
			}
			s = reflect.Append(s, reflect.New(v.Type().Elem()).Elem())
			d.decode(item, s.Index(s.Len()-1), depth+1)
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode || isNull(n) {
			d.errorf(n, "expected a string, got %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
			d.errorf(n, "expected true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil {
			d.errorf(n, "expected an integer, got %s", describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		f, err := strconv.ParseFloat(n.Value, 64)
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || err != nil {
			d.errorf(n, "expected a number, got %s", describe(n))
			return
		}
		v.SetFloat(f)
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			d.errorf(n, "bad value: %v", err)
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(normalize(x)))
		}
	default:
		d.errorf(n, "unsupported value")
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, depth int) {
	info := infoFor(v.Type())
	if isNull(n) {
		n = &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	}
	meta := Meta{File: d.file, Pos: Pos{n.Line, n.Column}, keys: map[string]Pos{}, nodes: map[string]*yaml.Node{}}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "expected a mapping with keys %s, got %s", strings.Join(info.names, ", "), describe(n))
		// The value still has a place: checks that run later point there
		// (and, being at a rejected position, stay quiet) instead of at 0:0.
		if info.meta >= 0 {
			v.Field(info.meta).Set(reflect.ValueOf(meta))
		}
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "expected a key, got %s", describe(k))
			continue
		}
		f, ok := info.fields[k.Value]
		if !ok {
			if s := suggest(k.Value, info.names); s != "" {
				d.errorf(k, "unknown key `%s`; did you mean `%s`?", k.Value, s)
			} else {
				d.errorf(k, "unknown key `%s` (valid keys: %s)", k.Value, strings.Join(info.names, ", "))
			}
			continue
		}
		if _, dup := meta.keys[k.Value]; dup {
			d.errorf(k, "duplicate key `%s`", k.Value)
			continue
		}
		meta.keys[k.Value] = Pos{val.Line, val.Column}
		meta.nodes[k.Value] = val
		if isNull(val) && (f.required || needsValue(v.Field(f.index).Type())) {
			// `webhook:` or `mapping:` with nothing after it: the key is
			// there, so "missing required key" would not fire, and the
			// nil it leaves crashes whoever reads it first.
			d.errorf(nullPos(k, val), "`%s` has no value: expected %s; fill it in or remove `%s`", k.Value, expected(v.Field(f.index).Type()), k.Value)
			d.rejected[Pos{val.Line, val.Column}] = true // checks of what it lacks would repeat this
			continue
		}
		before := len(d.diags)
		d.decode(val, v.Field(f.index), depth+1)
		if len(f.enum) > 0 && len(d.diags) == before && v.Field(f.index).Kind() == reflect.String {
			got := v.Field(f.index).String()
			if !contains(f.enum, got) {
				d.errorf(val, "`%s` must be one of %s, got %q%s", k.Value, strings.Join(f.enum, ", "), got, didYouMean(got, f.enum))
			}
		}
	}
	for _, name := range info.names {
		if f := info.fields[name]; f.required {
			if _, ok := meta.keys[name]; !ok {
				d.errorf(n, "missing required key `%s`", name)
			}
		}
	}
	if info.meta >= 0 {
		v.Field(info.meta).Set(reflect.ValueOf(meta))
	}
	// A nested block left out (no `failure:`, no `signature:`) still gets
	// checked with its defaults; its problems belong to the enclosing
	// mapping, the nearest thing in the file, not to 0:0.
	for _, name := range info.names {
		f := info.fields[name]
		fv := v.Field(f.index)
		if _, ok := meta.keys[name]; ok || fv.Kind() != reflect.Struct {
			continue
		}
		if sub := infoFor(fv.Type()); sub.meta >= 0 {
			fv.Field(sub.meta).Set(reflect.ValueOf(Meta{File: d.file, Pos: meta.Pos, keys: map[string]Pos{}, nodes: map[string]*yaml.Node{}}))
		}
	}
}

// needsValue reports whether a null cannot stand for a value of type t:
// structs and pointers to structs (a nil one is a crash waiting to
// happen). Scalars report their own type errors, and a nil list, map or
// *bool simply means "not given".
func needsValue(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return false
	}
	// Types that read themselves (durations, sizes) decide on their own.
	_, self := reflect.PointerTo(t).MethodByName("decodeNode")
	return !self
}

// expected describes what a value of type t looks like, for messages.
func expected(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if info := infoFor(t); len(info.names) > 0 {
			return "a mapping with keys " + strings.Join(info.names, ", ")
		}
		return "a mapping"
	case reflect.Slice:
		return "a list"
	case reflect.Map:
		return "a mapping of names to values"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	}
	return "a value"
}

// nullPos is where to report a key whose value is null. An implicit null
// (nothing after the colon) has no place of its own in the file: yaml.v3
// gives it the next token's position, or 0:0. The key is what the reader
// must look at.
func nullPos(k, val *yaml.Node) *yaml.Node {
	if val.Value == "" || val.Line == 0 {
		return k
	}
	return val
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing"
		case "!!str":
			return strconv.Quote(n.Value)
		}
		return n.Value
	}
	return "an unexpected value"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// normalize turns YAML's map[string]any-or-map[any]any trees into JSON-shaped
// values so defaults and enum targets compare equal to decoded payloads.
func normalize(x any) any {
	switch t := x.(type) {
	case map[string]any:
		for k, v := range t {
			t[k] = normalize(v)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, v := range t {
			m[fmt.Sprint(k)] = normalize(v)
		}
		return m
	case []any:
		for i, v := range t {
			t[i] = normalize(v)
		}
		return t
	case int:
		return int64(t)
	}
	return x
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// parseFile parses data into a document root, reporting YAML syntax errors
// as a diagnostic (yaml.v3 gives "yaml: line N: msg").
func parseFile(file string, data []byte) (root *yaml.Node, diags Diagnostics) {
	defer func() {
		// yaml.v3 has panicked on hostile input before; a lint must not crash.
		if r := recover(); r != nil {
			root = nil
			diags = Diagnostics{{File: file, Line: 1, Col: 1, Message: fmt.Sprintf("cannot parse YAML: %v", r)}}
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line := 1
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if rest, ok := strings.CutPrefix(msg, "line "); ok {
			if num, tail, ok := strings.Cut(rest, ": "); ok {
				if l, err := strconv.Atoi(num); err == nil {
					line, msg = l, tail
				}
			}
		}
		return nil, Diagnostics{{File: file, Line: line, Col: 1, Message: "invalid YAML: " + msg}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, Diagnostics{{File: file, Line: 1, Col: 1, Message: "empty file"}}
	}
	return doc.Content[0], nil
}
