package connector

import (
	"fmt"

	"github.com/accordhq/accord/internal/spec"
)

// PreviewPath shows a path template with the fields it names filled from
// doc, for dry runs and previews (nothing is escaped or sent), and returns
// the fields it used; {id} and {external_id} are id (the link's target, or
// the source record's id).
func PreviewPath(path string, doc map[string]any, id string) (string, []string) {
	var used []string
	out := placeholder.ReplaceAllStringFunc(path, func(m string) string {
		name := m[1 : len(m)-1]
		if name == "" {
			return m
		}
		if name == "id" || name == "external_id" {
			return id
		}
		if v, ok := spec.Get(doc, name); ok {
			used = append(used, name)
			return fmt.Sprint(v)
		}
		return m
	})
	return out, used
}

// RedactedAuth is how a request to p authenticates, the credential
// replaced by <redacted>, for dry runs and previews.
func RedactedAuth(p *spec.Provider) string {
	switch p.Auth.Kind {
	case spec.AuthAPIKey:
		if p.Auth.QueryParam != "" {
			return "?" + p.Auth.QueryParam + "=<redacted>"
		}
		h := p.Auth.Header
		if h == "" {
			h = "Authorization"
		}
		return h + ": " + p.Auth.Prefix + "<redacted>"
	case spec.AuthBasic:
		return "Authorization: Basic <redacted>"
	default:
		return "Authorization: Bearer <redacted>"
	}
}

// FirstEndpoint is the first of eps that the manifest declares.
func FirstEndpoint(eps ...*spec.Endpoint) *spec.Endpoint {
	for _, e := range eps {
		if e != nil {
			return e
		}
	}
	return nil
}
