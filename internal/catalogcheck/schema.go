package catalogcheck

import (
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/accordhq/accord/internal/spec"
)

// maxDepth bounds walks through allOf/oneOf/anyOf: vendor schemas are
// recursive (a customer's subscriptions carry their customer).
const maxDepth = 8

func val(r *openapi3.SchemaRef) *openapi3.Schema {
	if r == nil {
		return nil
	}
	return r.Value
}

// alternatives are the schemas whose properties count as s's own.
func alternatives(s *openapi3.Schema) []*openapi3.Schema {
	var out []*openapi3.Schema
	for _, list := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
		for _, r := range list {
			if v := val(r); v != nil {
				out = append(out, v)
			}
		}
	}
	return out
}

// property finds a property of s, through allOf, oneOf and anyOf.
func property(s *openapi3.Schema, name string) *openapi3.Schema {
	return propertyDepth(s, name, 0)
}

func propertyDepth(s *openapi3.Schema, name string, depth int) *openapi3.Schema {
	if s == nil || depth > maxDepth {
		return nil
	}
	if p := val(s.Properties[name]); p != nil {
		return p
	}
	for _, alt := range alternatives(s) {
		if p := propertyDepth(alt, name, depth+1); p != nil {
			return p
		}
	}
	return nil
}

// hasProperties reports whether s declares any property at all; a schema
// without is open (any field may be there).
func hasProperties(s *openapi3.Schema, depth int) bool {
	if s == nil || depth > maxDepth {
		return false
	}
	if len(s.Properties) > 0 {
		return true
	}
	for _, alt := range alternatives(s) {
		if hasProperties(alt, depth+1) {
			return true
		}
	}
	return false
}

// descend follows a JSON path (incident.id) through properties; "" is s.
func descend(s *openapi3.Schema, path string) *openapi3.Schema {
	for _, seg := range strings.Split(path, ".") {
		if s == nil || seg == "" {
			continue
		}
		s = property(s, seg)
	}
	return s
}

// element is the item schema of an array schema.
func element(s *openapi3.Schema) *openapi3.Schema {
	if s == nil {
		return nil
	}
	if it := val(s.Items); it != nil {
		return it
	}
	for _, alt := range alternatives(s) {
		if it := element(alt); it != nil {
			return it
		}
	}
	return nil
}

// required lists the properties s requires (its own and its allOf's).
func required(s *openapi3.Schema) []string {
	if s == nil {
		return nil
	}
	out := append([]string(nil), s.Required...)
	for _, r := range s.AllOf {
		out = append(out, required(val(r))...)
	}
	// A body that is oneOf a single schema (Intercom) requires what it does.
	if len(s.OneOf) == 1 {
		out = append(out, required(val(s.OneOf[0]))...)
	}
	sort.Strings(out)
	return out
}

// types collects the JSON types s admits, through its alternatives ("null"
// left out); an empty set means s says nothing about its type.
func types(s *openapi3.Schema, depth int) (set map[string]bool) {
	set = map[string]bool{}
	if s == nil || depth > maxDepth {
		return set
	}
	if s.Type != nil {
		for _, t := range s.Type.Slice() {
			if t != "null" {
				set[t] = true
			}
		}
	}
	if len(s.Properties) > 0 {
		set["object"] = true
	}
	for _, alt := range alternatives(s) {
		for t := range types(alt, depth+1) {
			set[t] = true
		}
	}
	return set
}

// compatible reports whether a manifest field type can hold the values s
// describes. A schema without a type matches anything.
func compatible(fieldType string, s *openapi3.Schema) bool {
	set := types(s, 0)
	if len(set) == 0 {
		return true
	}
	switch fieldType {
	case spec.TypeString:
		return set["string"]
	case spec.TypeInt:
		return set["integer"]
	case spec.TypeFloat:
		return set["number"] || set["integer"]
	case spec.TypeBool:
		return set["boolean"]
	case spec.TypeTimestamp:
		// date-time strings, or Unix seconds as integers.
		return set["string"] || set["integer"] || set["number"]
	case spec.TypeObject:
		return set["object"]
	case spec.TypeList:
		return set["array"]
	}
	return false
}

// describeTypes names the JSON types of s for a message.
func describeTypes(s *openapi3.Schema) string {
	set := types(s, 0)
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return strings.Join(out, " or ")
}

// enumValues collects the enum of s and its alternatives.
func enumValues(s *openapi3.Schema, depth int) []any {
	if s == nil || depth > maxDepth {
		return nil
	}
	out := append([]any(nil), s.Enum...)
	for _, alt := range alternatives(s) {
		out = append(out, enumValues(alt, depth+1)...)
	}
	return out
}

// mediaSchema picks the JSON content's schema, else the first one.
func mediaSchema(content openapi3.Content) *openapi3.Schema {
	if len(content) == 0 {
		return nil
	}
	keys := make([]string, 0, len(content))
	for k := range content {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.Contains(k, "json") && content[k] != nil {
			return val(content[k].Schema)
		}
	}
	if mt := content[keys[0]]; mt != nil {
		return val(mt.Schema)
	}
	return nil
}

// requestSchema is the operation's request body schema.
func requestSchema(op *openapi3.Operation) *openapi3.Schema {
	if op == nil || op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil
	}
	return mediaSchema(op.RequestBody.Value.Content)
}

// responseSchema is the schema of the operation's success response
// (200, 201, then any other 2xx).
func responseSchema(op *openapi3.Operation) *openapi3.Schema {
	if op == nil || op.Responses == nil {
		return nil
	}
	m := op.Responses.Map()
	codes := make([]string, 0, len(m))
	for code := range m {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, pref := range []string{"200", "201", "2"} {
		for _, code := range codes {
			if strings.HasPrefix(code, pref) && m[code] != nil && m[code].Value != nil {
				if s := mediaSchema(m[code].Value.Content); s != nil {
					return s
				}
			}
		}
	}
	return nil
}
