package catalogcheck

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// ScaffoldOptions say what to scaffold from a vendor document.
type ScaffoldOptions struct {
	// Object is the name of the component schema to describe (contact,
	// customer); matched without regard to case, and to a trailing s.
	Object string
	// Provider is the manifest's name. Default: the document's title,
	// lowercased, up to its first space.
	Provider string
}

// Scaffold writes a provider manifest for one object of a vendor document:
// its list, get, create, update and delete endpoints (those whose
// responses carry the object's schema), its fields with types, enums and
// read-only marks, the fields the create body requires, the auth scheme
// from securitySchemes, and cursor, offset or page pagination when the list
// endpoint's parameters and response make it recognisable. The result
// lints clean; the author trims it.
func Scaffold(doc *openapi3.T, o ScaffoldOptions) ([]byte, error) {
	name, target := findSchema(doc, o.Object)
	if target == nil {
		return nil, fmt.Errorf("the document has no schema named %s%s", o.Object, schemaHint(doc, o.Object))
	}
	s := &scaffold{doc: doc, target: target, object: snake(singular(name))}
	s.provider = o.Provider
	if s.provider == "" {
		s.provider = "vendor"
		if doc.Info != nil && doc.Info.Title != "" {
			s.provider = snake(strings.Fields(doc.Info.Title)[0])
		}
	}
	s.findEndpoints()
	return s.write(), nil
}

type endpoint struct {
	role, method, path, items, item, body string
	op                                    *openapi3.Operation
}

type scaffold struct {
	doc              *openapi3.T
	target           *openapi3.Schema
	provider, object string
	endpoints        map[string]*endpoint
	pathFields       []string
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

func snake(s string) string {
	s = nonWord.ReplaceAllString(strings.ToLower(s), "_")
	s = strings.Trim(s, "_")
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		s = "x" + s
	}
	return s
}

func singular(s string) string {
	if strings.HasSuffix(s, "ies") {
		return s[:len(s)-3] + "y"
	}
	return strings.TrimSuffix(s, "s")
}

func findSchema(doc *openapi3.T, want string) (string, *openapi3.Schema) {
	if doc.Components == nil {
		return "", nil
	}
	w := strings.ToLower(singular(want))
	names := make([]string, 0, len(doc.Components.Schemas))
	for n := range doc.Components.Schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if strings.ToLower(singular(n)) == w {
			return n, val(doc.Components.Schemas[n])
		}
	}
	return "", nil
}

func schemaHint(doc *openapi3.T, want string) string {
	if doc.Components == nil {
		return ""
	}
	var near []string
	for n := range doc.Components.Schemas {
		if strings.Contains(strings.ToLower(n), strings.ToLower(singular(want))) {
			near = append(near, n)
		}
	}
	sort.Strings(near)
	if len(near) == 0 {
		return ""
	}
	if len(near) > 8 {
		near = near[:8]
	}
	return " (schemas with that in their name: " + strings.Join(near, ", ") + ")"
}

// carries reports whether s is the target, or offers it through
// oneOf/anyOf/allOf (Stripe answers a get with customer or deleted_customer).
func (s *scaffold) carries(x *openapi3.Schema) bool {
	if x == nil {
		return false
	}
	if x == s.target {
		return true
	}
	for _, alt := range alternatives(x) {
		if alt == s.target {
			return true
		}
	}
	return false
}

// locate finds the target in a response: the whole body, a property of it
// (item: ticket), or the items of an array property (items: data).
func (s *scaffold) locate(resp *openapi3.Schema) (item string, list string, ok bool) {
	if resp == nil {
		return "", "", false
	}
	if s.carries(resp) {
		return "", "", true
	}
	props := map[string]*openapi3.Schema{}
	var collect func(x *openapi3.Schema, depth int)
	collect = func(x *openapi3.Schema, depth int) {
		if x == nil || depth > 2 {
			return
		}
		for k, r := range x.Properties {
			if v := val(r); v != nil && props[k] == nil {
				props[k] = v
			}
		}
		for _, r := range x.AllOf {
			collect(val(r), depth+1)
		}
	}
	collect(resp, 0)
	for _, k := range sortedKeys(props) {
		if s.carries(element(props[k])) {
			return "", k, true
		}
	}
	for _, k := range sortedKeys(props) {
		if s.carries(props[k]) {
			return k, "", true
		}
	}
	return "", "", false
}

var trailingParam = regexp.MustCompile(`/\{([^{}/]+)\}$`)

// score ranks candidate endpoints for one role: a path naming the object
// first (/v1/customers for customer, not /v1/charges whose charge has a
// customer), then the object as the whole body, then the shorter path.
func (s *scaffold) score(ep *endpoint) (named, direct bool, segs int) {
	for _, seg := range strings.Split(ep.path, "/") {
		if singular(strings.ToLower(seg)) == s.object || strings.ToLower(seg) == s.object {
			named = true
		}
	}
	if ep.item != "" && singular(strings.ToLower(ep.item)) == s.object {
		named = true
	}
	return named, ep.item == "", strings.Count(ep.path, "/")
}

func (s *scaffold) better(a, b *endpoint) bool {
	an, ad, as := s.score(a)
	bn, bd, bs := s.score(b)
	switch {
	case an != bn:
		return an
	case ad != bd:
		return ad
	case as != bs:
		return as < bs
	}
	return a.path < b.path
}

func (s *scaffold) findEndpoints() {
	s.endpoints = map[string]*endpoint{}
	paths := s.doc.Paths.Map()
	deletes := map[string]*openapi3.Operation{}
	for _, path := range sortedKeys(paths) {
		byID := trailingParam.FindStringSubmatch(path)
		norm := path
		if byID != nil {
			norm = strings.TrimSuffix(path, byID[0]) + "/{id}"
			if paths[path].Delete != nil {
				deletes[norm] = paths[path].Delete
			}
		}
		for method, op := range paths[path].Operations() {
			item, list, ok := s.locate(responseSchema(op))
			if !ok {
				continue
			}
			role := ""
			switch {
			case method == "GET" && list != "" && byID == nil:
				role = "list"
			case method == "GET" && list == "" && byID != nil:
				role = "get"
			case method == "POST" && list == "" && byID == nil:
				role = "create"
			case (method == "PUT" || method == "PATCH" || method == "POST") && list == "" && byID != nil:
				role = "update"
			}
			if role == "" {
				continue
			}
			ep := &endpoint{role: role, method: method, path: norm, items: list, item: item, op: op}
			if role == "create" || role == "update" {
				if req := requestSchema(op); req != nil && item != "" && property(req, item) != nil {
					ep.body = item
				}
			}
			if prev := s.endpoints[role]; prev == nil || s.better(ep, prev) ||
				(role == "update" && prev.path == ep.path && prev.method == "POST" && method != "POST") {
				s.endpoints[role] = ep
			}
		}
	}
	if get := s.endpoints["get"]; get != nil && deletes[get.path] != nil {
		s.endpoints["delete"] = &endpoint{role: "delete", method: "DELETE", path: get.path, op: deletes[get.path]}
	}
	seen := map[string]bool{"id": true}
	for _, ep := range s.endpoints {
		for _, m := range placeholder.FindAllString(ep.path, -1) {
			n := strings.Trim(m, "{}")
			if !seen[n] {
				seen[n] = true
				s.pathFields = append(s.pathFields, n)
			}
		}
	}
	sort.Strings(s.pathFields)
}
