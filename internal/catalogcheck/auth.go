package catalogcheck

import (
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/accordhq/accord/internal/spec"
)

// auth checks that the manifest authenticates the way one of the
// document's security schemes says. A document without schemes says
// nothing, and is not held against the manifest.
func (c *checker) auth() {
	if c.doc.Components == nil || len(c.doc.Components.SecuritySchemes) == 0 {
		return
	}
	var offered []string
	for name, ref := range c.doc.Components.SecuritySchemes {
		if ref == nil || ref.Value == nil {
			continue
		}
		if authMatches(&c.p.Auth, ref.Value) {
			return
		}
		offered = append(offered, describeScheme(name, ref.Value))
	}
	sort.Strings(offered)
	c.errorAt(c.p.Auth.Meta.At("kind"), "auth %s matches none of the vendor's security schemes (%s)", describeManifestAuth(&c.p.Auth), strings.Join(offered, "; "))
}

// authMatches reports whether a manifest's auth sends what the scheme
// asks for. OAuth access tokens travel as bearer tokens, so a bearer
// manifest matches an oauth2 scheme (the tenant pastes a token the
// vendor's OAuth issued).
func authMatches(a *spec.Auth, s *openapi3.SecurityScheme) bool {
	header := a.Header
	if header == "" && a.QueryParam == "" {
		header = "Authorization"
	}
	bearerLike := a.Kind == spec.AuthBearer || a.IsOAuth() ||
		(a.Kind == spec.AuthAPIKey && strings.EqualFold(header, "Authorization") && strings.EqualFold(strings.TrimSpace(a.Prefix), "Bearer"))
	switch {
	case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
		return bearerLike
	case s.Type == "http" && strings.EqualFold(s.Scheme, "basic"):
		return a.Kind == spec.AuthBasic
	case s.Type == "oauth2" || s.Type == "openIdConnect":
		return bearerLike
	case s.Type == "apiKey" && s.In == "query":
		return a.Kind == spec.AuthAPIKey && a.QueryParam == s.Name
	case s.Type == "apiKey" && s.In == "header":
		return (a.Kind == spec.AuthAPIKey && a.QueryParam == "" && strings.EqualFold(header, s.Name)) ||
			(bearerLike && strings.EqualFold(s.Name, "Authorization"))
	}
	return false
}

func describeScheme(name string, s *openapi3.SecurityScheme) string {
	switch s.Type {
	case "http":
		return name + ": http " + strings.ToLower(s.Scheme)
	case "apiKey":
		return name + ": api key in " + s.In + " " + s.Name
	}
	return name + ": " + s.Type
}

func describeManifestAuth(a *spec.Auth) string {
	switch {
	case a.Kind == spec.AuthAPIKey && a.QueryParam != "":
		return "api_key in query parameter " + a.QueryParam
	case a.Kind == spec.AuthAPIKey && a.Header != "":
		return "api_key in header " + a.Header
	}
	return a.Kind
}
