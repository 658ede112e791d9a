package catalogcheck

import (
	"fmt"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/accordhq/accord/internal/spec"
)

// object checks an object's endpoints, then its fields against every
// schema those endpoints read or write.
func (c *checker) object(name string, o *spec.Object) {
	var schemas []*openapi3.Schema
	add := func(s *openapi3.Schema) {
		if s != nil {
			schemas = append(schemas, s)
		}
	}
	var create *openapi3.Schema
	var createEP *spec.Endpoint
	e := o.Endpoints
	for _, ep := range []struct {
		key string
		ep  *spec.Endpoint
	}{
		{"list", e.List}, {"get", e.Get}, {"create", e.Create}, {"update", e.Update},
		{"delete", e.Delete}, {"find_by_external_id", e.FindByExternalID},
	} {
		if ep.ep == nil {
			continue
		}
		what := name + "." + ep.key
		op := c.operation(what, ep.ep)
		if op == nil {
			continue
		}
		resp := responseSchema(op)
		switch ep.key {
		case "list", "find_by_external_id":
			list := descend(resp, ep.ep.Items)
			if resp != nil && list == nil && hasProperties(resp, 0) {
				c.errorAt(ep.ep.Meta.At("items"), "%s: the vendor's response has no %s", what, ep.ep.Items)
			}
			add(element(list))
		case "get":
			add(descend(resp, ep.ep.Item))
		case "create", "update":
			c.encoding(what, ep.ep, op)
			req := descend(requestSchema(op), ep.ep.Body)
			add(req)
			add(descend(resp, ep.ep.Item))
			if ep.key == "create" {
				create, createEP = req, ep.ep
			}
			if ep.ep.IDPath != "" && resp != nil && hasProperties(resp, 0) && descend(resp, ep.ep.IDPath) == nil {
				c.errorAt(ep.ep.Meta.At("id_path"), "%s: the vendor's response has no %s", what, ep.ep.IDPath)
			}
		}
	}
	if len(schemas) > 0 {
		c.fields(name, o.Fields, schemas, pathOnly(o))
	}
	if create != nil {
		c.required(name, o.Fields, create, createEP)
	}
}

// encoding reports a write whose body the vendor does not take: the
// manifest sends JSON where the vendor reads a form, or the other way.
func (c *checker) encoding(what string, ep *spec.Endpoint, op *openapi3.Operation) {
	if op.RequestBody == nil || op.RequestBody.Value == nil || len(op.RequestBody.Value.Content) == 0 {
		return
	}
	enc := c.p.BodyEncoding(ep)
	var takes []string
	for mt := range op.RequestBody.Value.Content {
		isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
		if (enc == spec.EncodingForm && mt == "application/x-www-form-urlencoded") || (enc == spec.EncodingJSON && isJSON) {
			return
		}
		takes = append(takes, mt)
	}
	sort.Strings(takes)
	c.errorAt(ep.Meta.At("encoding"), "%s: sends %s, but the vendor takes %s: set encoding (json or form) on the endpoint or the provider", what, enc, strings.Join(takes, ", "))
}

// pathOnly are the fields that fill path placeholders ({owner}): they are
// taken out of the body, so the vendor's schemas need not have them.
func pathOnly(o *spec.Object) map[string]bool {
	out := map[string]bool{}
	e := o.Endpoints
	for _, ep := range []*spec.Endpoint{e.List, e.Get, e.Create, e.Update, e.Delete, e.FindByExternalID} {
		if ep == nil {
			continue
		}
		for _, m := range placeholder.FindAllString(ep.Path, -1) {
			out[strings.Trim(m, "{}")] = true
		}
	}
	return out
}

func sortedFields(fields map[string]*spec.Field) []string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// fields checks each declared field against the schemas of its parent.
func (c *checker) fields(where string, fields map[string]*spec.Field, parents []*openapi3.Schema, skip map[string]bool) {
	open := false
	for _, s := range parents {
		if !hasProperties(s, 0) {
			open = true
		}
	}
	for _, name := range sortedFields(fields) {
		f := fields[name]
		if f == nil || skip[name] {
			continue
		}
		var found []*openapi3.Schema
		for _, s := range parents {
			if p := property(s, name); p != nil {
				found = append(found, p)
			}
		}
		if len(found) == 0 {
			if !open {
				c.errorAt(f.Meta.Pos, "%s.%s is not in the vendor's schemas for this object", where, name)
			}
			continue
		}
		ok := false
		for _, s := range found {
			if compatible(f.Type, s) {
				ok = true
				break
			}
		}
		if !ok {
			c.errorAt(f.Meta.At("type"), "%s.%s is %s here but %s in the vendor's document", where, name, f.Type, describeTypes(found[0]))
		}
		c.enum(where+"."+name, f, found)
		if len(f.Fields) > 0 {
			c.fields(where+"."+name, f.Fields, found, nil)
		}
	}
}

// enum reports declared enum values the vendor does not list.
func (c *checker) enum(where string, f *spec.Field, found []*openapi3.Schema) {
	if len(f.Enum) == 0 {
		return
	}
	allowed := map[string]bool{}
	for _, s := range found {
		for _, v := range enumValues(s, 0) {
			allowed[fmt.Sprint(v)] = true
		}
	}
	if len(allowed) == 0 {
		return
	}
	for _, v := range f.Enum {
		if !allowed[fmt.Sprint(v)] {
			vals := make([]string, 0, len(allowed))
			for a := range allowed {
				vals = append(vals, a)
			}
			sort.Strings(vals)
			c.errorAt(f.Meta.At("enum"), "%s: the vendor does not list the value %v (it has %s)", where, v, strings.Join(vals, ", "))
		}
	}
}

// required checks that every property the vendor requires in the create
// body is declared required, so a contract must map it or default it.
func (c *checker) required(where string, fields map[string]*spec.Field, body *openapi3.Schema, ep *spec.Endpoint) {
	for _, name := range required(body) {
		f := fields[name]
		switch {
		case f == nil:
			c.errorAt(ep.Meta.At("path"), "%s.create: the vendor requires %s in the body; declare it with required: true", where, name)
		case !f.Required:
			c.errorAt(f.Meta.Pos, "%s.%s: the vendor requires it on create; mark it required: true so contracts map it or give it a default", where, name)
		case len(f.Fields) > 0:
			c.required(where+"."+name, f.Fields, property(body, name), ep)
		}
	}
}
