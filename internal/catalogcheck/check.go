package catalogcheck

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/accordhq/accord/internal/spec"
)

// Check compares a parsed provider manifest with the vendor's document and
// returns every difference, positioned on the manifest and sorted.
func Check(p *spec.Provider, doc *openapi3.T) spec.Diagnostics {
	c := &checker{p: p, doc: doc, file: p.Meta.File}
	c.prefixes = c.serverPrefixes()
	c.auth()
	if p.Auth.Test != nil {
		c.operation("auth.test", p.Auth.Test)
	}
	names := make([]string, 0, len(p.Objects))
	for name := range p.Objects {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if o := p.Objects[name]; o != nil {
			c.object(name, o)
		}
	}
	sort.SliceStable(c.diags, func(i, j int) bool {
		a, b := c.diags[i], c.diags[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return c.diags
}

type checker struct {
	p        *spec.Provider
	doc      *openapi3.T
	file     string
	prefixes []string
	diags    spec.Diagnostics
}

func (c *checker) errorAt(pos spec.Pos, format string, args ...any) {
	c.diags = append(c.diags, spec.Diagnostic{File: c.file, Line: pos.Line, Col: pos.Col, Message: fmt.Sprintf(format, args...)})
}

// serverPrefixes are the path parts of the document's servers ("/v2"),
// and "" for documents whose paths are already complete.
func (c *checker) serverPrefixes() []string {
	out := []string{""}
	for _, s := range c.doc.Servers {
		if s == nil {
			continue
		}
		if u, err := url.Parse(s.URL); err == nil && strings.Trim(u.Path, "/") != "" {
			out = append(out, "/"+strings.Trim(u.Path, "/"))
		}
	}
	return out
}

// basePath is the path part of the manifest's base_url (defaults expanded).
func (c *checker) basePath() string {
	u, err := url.Parse(spec.ExpandEnv(c.p.BaseURL, func(string) (string, bool) { return "", false }))
	if err != nil {
		return ""
	}
	return strings.TrimRight(u.Path, "/")
}

var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

// segments splits a path and blanks out its placeholders, so
// /orders/{id}.json matches /orders/{order_id}.json.
func segments(p string) []string {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for i, s := range parts {
		parts[i] = placeholder.ReplaceAllString(s, "{}")
	}
	return parts
}

// findPath returns the document path matching the manifest's path.
func (c *checker) findPath(manifestPath string) (string, *openapi3.PathItem) {
	path, _, _ := strings.Cut(manifestPath, "?")
	wants := [][]string{segments(path)}
	if base := c.basePath(); base != "" {
		wants = append(wants, segments(base+path))
	}
	for docPath, item := range c.doc.Paths.Map() {
		for _, prefix := range c.prefixes {
			have := segments(prefix + docPath)
			for _, want := range wants {
				if slices.Equal(have, want) {
					return docPath, item
				}
			}
		}
	}
	return "", nil
}

// operation checks that the endpoint exists with its method and that its
// query parameters are the operation's; it returns the operation or nil.
func (c *checker) operation(what string, ep *spec.Endpoint) *openapi3.Operation {
	docPath, item := c.findPath(ep.Path)
	if item == nil {
		c.errorAt(ep.Meta.At("path"), "%s: %s %s is not in the vendor's document", what, ep.Method, ep.Path)
		return nil
	}
	op := item.GetOperation(strings.ToUpper(ep.Method))
	if op == nil {
		var have []string
		for m := range item.Operations() {
			have = append(have, m)
		}
		sort.Strings(have)
		c.errorAt(ep.Meta.At("method"), "%s: the vendor's %s takes %s, not %s", what, docPath, strings.Join(have, ", "), ep.Method)
		return nil
	}
	if _, query, ok := strings.Cut(ep.Path, "?"); ok {
		for _, kv := range strings.Split(query, "&") {
			name, _, _ := strings.Cut(kv, "=")
			if name == "" || hasParam(item.Parameters, name) || hasParam(op.Parameters, name) {
				continue
			}
			c.errorAt(ep.Meta.At("path"), "%s: %s %s takes no query parameter %s", what, ep.Method, docPath, name)
		}
	}
	return op
}

func hasParam(params openapi3.Parameters, name string) bool {
	for _, p := range params {
		if p != nil && p.Value != nil && p.Value.In == openapi3.ParameterInQuery && p.Value.Name == name {
			return true
		}
	}
	return false
}
