package spec

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrNoEndpoint is returned when an object lacks the endpoint an operation needs.
var ErrNoEndpoint = errors.New("spec: no such endpoint")

// Object returns the named object or nil.
func (p *Provider) Object(name string) *Object { return p.Objects[name] }

// Endpoint returns the object's endpoint for an operation: list, get,
// create, update, delete or find_by_external_id.
func (o *Object) Endpoint(op string) (*Endpoint, error) {
	var e *Endpoint
	switch op {
	case "list":
		e = o.Endpoints.List
	case "get":
		e = o.Endpoints.Get
	case "create":
		e = o.Endpoints.Create
	case "update":
		e = o.Endpoints.Update
	case "delete":
		e = o.Endpoints.Delete
	case "find_by_external_id":
		e = o.Endpoints.FindByExternalID
	}
	if e == nil {
		return nil, fmt.Errorf("%w: %s has no %s endpoint", ErrNoEndpoint, o.Name, op)
	}
	return e, nil
}

// Expand fills the path template. vars supplies {id} and {external_id};
// any other placeholder is taken from doc's top-level field of that name,
// which is removed from the returned body (a copy: doc is not modified).
// Values are escaped for their place (path segment or query).
func (e *Endpoint) Expand(vars map[string]string, doc map[string]any) (path string, body map[string]any, err error) {
	body = make(map[string]any, len(doc))
	for k, v := range doc {
		body[k] = v
	}
	var missing []string
	tmpl := e.Path
	pathPart, query, hasQuery := strings.Cut(tmpl, "?")
	fill := func(s string, escape func(string) string) string {
		return placeholderPattern.ReplaceAllStringFunc(s, func(m string) string {
			name := m[1 : len(m)-1]
			if v, ok := vars[name]; ok {
				return escape(v)
			}
			if v, ok := body[name]; ok && v != nil {
				delete(body, name)
				return escape(fmt.Sprint(v))
			}
			missing = append(missing, name)
			return ""
		})
	}
	path = fill(pathPart, url.PathEscape)
	if hasQuery {
		path += "?" + fill(query, url.QueryEscape)
	}
	if len(missing) > 0 {
		return "", nil, fmt.Errorf("expanding %s: no value for {%s}", e.Path, strings.Join(missing, "}, {"))
	}
	return path, body, nil
}
