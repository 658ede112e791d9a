package catalogcheck

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// q quotes a string for YAML (a JSON string is a YAML double-quoted one).
func q(v string) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i > 0 {
		s = s[:i]
	}
	s = strings.TrimSuffix(s, ".")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

func fieldType(x *openapi3.Schema) string {
	set := types(x, 0)
	switch {
	case set["integer"] && (x.Format == "date-time" || x.Format == "unix-time"):
		return "timestamp"
	case set["string"] && (x.Format == "date-time" || x.Format == "date"):
		return "timestamp"
	case set["string"]:
		return "string"
	case set["integer"]:
		return "int"
	case set["number"]:
		return "float"
	case set["boolean"]:
		return "bool"
	case set["array"]:
		return "list"
	}
	return "object"
}

func (s *scaffold) write() []byte {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	title := s.provider
	if s.doc.Info != nil && s.doc.Info.Title != "" {
		title = s.doc.Info.Title
	}
	p("# yaml-language-server: $schema=https://accord.dev/schema/provider.v1.json\n#\n")
	p("# Scaffolded by `accord provider import` from %s. Trim what you do not\n", title)
	p("# need, give the scopes plain-language descriptions, add rate_limit,\n# errors and webhooks, then check it: accord contract check --openapi SPEC FILE\n")
	p("accord: provider/v1\nname: %s\ntitle: %s\n", s.provider, q(title))
	p("base_url: %s\n", q(s.baseURL()))
	if s.doc.Info != nil && s.doc.Info.Version != "" {
		p("# The document describes API version %s.\n", s.doc.Info.Version)
	}
	s.writeAuth(&b)
	s.writePagination(&b)
	if s.takesForms() {
		p("# The vendor reads write bodies as forms (application/x-www-form-urlencoded).\nencoding: form\n")
	}
	p("objects:\n  %s:\n", s.object)
	if d := firstSentence(s.target.Description); d != "" {
		p("    description: %s\n", q(d))
	}
	fields, required := s.fields()
	id := "id"
	if fields["id"] == nil {
		id = ""
		for _, n := range sortedKeys(fields) {
			if strings.HasSuffix(n, "id") && fields[n].typ != "object" {
				id = n
				break
			}
		}
		if id == "" {
			id = "id"
			fields["id"] = &scaffoldField{typ: "string", readOnly: true, desc: "not in the vendor's schema: set the field holding the id"}
		}
	}
	p("    id: %s\n", id)
	for _, n := range []string{"updated_at", "updatedAt", "updated"} {
		if f := fields[n]; f != nil && f.typ == "timestamp" {
			p("    updated_at: %s\n", n)
			break
		}
	}
	p("    fields:\n")
	for _, n := range sortedKeys(fields) {
		f := fields[n]
		parts := []string{"type: " + f.typ}
		if required[n] {
			parts = append(parts, "required: true")
		}
		if f.readOnly {
			parts = append(parts, "read_only: true")
		}
		if len(f.enum) > 0 {
			parts = append(parts, "enum: ["+strings.Join(f.enum, ", ")+"]")
		}
		if f.desc != "" {
			parts = append(parts, "description: "+q(f.desc))
		}
		key := n
		if !plainName.MatchString(n) {
			key = q(n)
		}
		p("      %s: {%s}\n", key, strings.Join(parts, ", "))
	}
	if len(s.endpoints) > 0 {
		p("    endpoints:\n")
		for _, role := range []string{"list", "get", "create", "update", "delete"} {
			ep := s.endpoints[role]
			if ep == nil {
				continue
			}
			parts := []string{"method: " + ep.method, "path: " + q(ep.path)}
			if ep.items != "" {
				parts = append(parts, "items: "+ep.items)
			}
			if ep.item != "" {
				parts = append(parts, "item: "+ep.item)
			}
			if ep.body != "" {
				parts = append(parts, "body: "+ep.body)
			}
			if role == "create" {
				idPath := id
				if ep.item != "" {
					idPath = ep.item + "." + id
				}
				parts = append(parts, "id_path: "+idPath)
			}
			p("      %s: {%s}\n", role, strings.Join(parts, ", "))
		}
	} else {
		p("    # No endpoint of the document answers with this schema: add them by hand.\n")
	}
	return []byte(b.String())
}

type scaffoldField struct {
	typ, desc string
	readOnly  bool
	enum      []string
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var plainName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// fields are the target's properties plus what the create body takes, and
// the create body's required properties.
func (s *scaffold) fields() (map[string]*scaffoldField, map[string]bool) {
	out := map[string]*scaffoldField{}
	add := func(x *openapi3.Schema, readOnlyDefault bool) {
		if x == nil {
			return
		}
		collect := map[string]*openapi3.Schema{}
		var walk func(x *openapi3.Schema, depth int)
		walk = func(x *openapi3.Schema, depth int) {
			if x == nil || depth > maxDepth {
				return
			}
			for n, r := range x.Properties {
				if v := val(r); v != nil && collect[n] == nil {
					collect[n] = v
				}
			}
			for _, alt := range alternatives(x) {
				walk(alt, depth+1)
			}
		}
		walk(x, 0)
		for n, v := range collect {
			if out[n] != nil || !plainName.MatchString(n) {
				continue
			}
			f := &scaffoldField{typ: fieldType(v), desc: firstSentence(v.Description), readOnly: v.ReadOnly || readOnlyDefault}
			if f.typ == "string" || f.typ == "int" {
				for _, e := range v.Enum {
					if e == nil {
						continue
					}
					if str, ok := e.(string); ok {
						f.enum = append(f.enum, q(str))
					} else if num, ok := e.(float64); ok && f.typ == "int" {
						f.enum = append(f.enum, fmt.Sprint(int64(num)))
					}
				}
				if len(f.enum) != len(v.Enum) {
					f.enum = nil
				}
			}
			out[n] = f
		}
	}
	mustHave := map[string]bool{}
	var writable map[string]bool
	if ep := s.endpoints["create"]; ep != nil {
		req := descend(requestSchema(ep.op), ep.body)
		if req != nil {
			writable = map[string]bool{}
			for _, n := range required(req) {
				mustHave[n] = true
			}
			var names func(x *openapi3.Schema, depth int)
			names = func(x *openapi3.Schema, depth int) {
				if x == nil || depth > maxDepth {
					return
				}
				for n := range x.Properties {
					writable[n] = true
				}
				for _, alt := range alternatives(x) {
					names(alt, depth+1)
				}
			}
			names(req, 0)
		}
		add(s.target, false)
		add(req, false)
	} else {
		add(s.target, false)
	}
	for n, f := range out {
		if writable != nil && !writable[n] {
			f.readOnly = true
		}
	}
	for _, n := range s.pathFields {
		if out[n] == nil {
			out[n] = &scaffoldField{typ: "string", desc: "path parameter"}
			mustHave[n] = true
		}
	}
	return out, mustHave
}

func (s *scaffold) baseURL() string {
	env := strings.ToUpper(strings.ReplaceAll(s.provider, "-", "_")) + "_URL"
	if len(s.doc.Servers) > 0 && s.doc.Servers[0] != nil {
		srv := s.doc.Servers[0]
		u := srv.URL
		for name, v := range srv.Variables {
			if v != nil {
				u = strings.ReplaceAll(u, "{"+name+"}", v.Default)
			}
		}
		if parsed, err := url.Parse(u); err == nil && parsed.Host != "" && (parsed.Scheme == "http" || parsed.Scheme == "https") {
			return "${" + env + ":-" + strings.TrimRight(u, "/") + "}"
		}
	}
	return "${" + env + ":-https://api.example.com}"
}

func (s *scaffold) writeAuth(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	var schemes openapi3.SecuritySchemes
	if s.doc.Components != nil {
		schemes = s.doc.Components.SecuritySchemes
	}
	env := strings.ToUpper(strings.ReplaceAll(s.provider, "-", "_"))
	names := sortedKeys(schemes)
	// Prefer what a tenant can paste or Accord can run: bearer, api keys,
	// OAuth, then basic.
	rank := func(n string) int {
		sc := schemes[n].Value
		switch {
		case sc == nil:
			return 9
		case sc.Type == "http" && strings.EqualFold(sc.Scheme, "bearer"):
			return 0
		case sc.Type == "apiKey":
			return 1
		case sc.Type == "oauth2":
			return 2
		}
		return 3
	}
	sort.SliceStable(names, func(i, j int) bool { return rank(names[i]) < rank(names[j]) })
	for _, name := range names {
		sc := schemes[name].Value
		if sc == nil {
			continue
		}
		switch {
		case sc.Type == "http" && strings.EqualFold(sc.Scheme, "bearer"):
			p("auth:\n  kind: bearer\n")
		case sc.Type == "http" && strings.EqualFold(sc.Scheme, "basic"):
			p("auth:\n  kind: basic\n")
		case sc.Type == "apiKey" && sc.In == "query":
			p("auth:\n  kind: api_key\n  query_param: %s\n", q(sc.Name))
		case sc.Type == "apiKey":
			p("auth:\n  kind: api_key\n  header: %s\n", q(sc.Name))
		case sc.Type == "oauth2" && sc.Flows != nil && sc.Flows.AuthorizationCode != nil:
			f := sc.Flows.AuthorizationCode
			p("auth:\n  kind: oauth2_code\n  authorize_url: %s\n  token_url: %s\n", q(f.AuthorizationURL), q(f.TokenURL))
			p("  client_id_env: %s_CLIENT_ID\n  client_secret_env: %s_CLIENT_SECRET\n", env, env)
			s.writeScopes(b, f.Scopes)
			return
		case sc.Type == "oauth2" && sc.Flows != nil && sc.Flows.ClientCredentials != nil:
			f := sc.Flows.ClientCredentials
			p("auth:\n  kind: oauth2_client_credentials\n  token_url: %s\n", q(f.TokenURL))
			p("  client_id_env: %s_CLIENT_ID\n  client_secret_env: %s_CLIENT_SECRET\n", env, env)
			s.writeScopes(b, f.Scopes)
			return
		default:
			continue
		}
		return
	}
	p("# The document declares no security scheme Accord knows: say how requests authenticate.\nauth:\n  kind: bearer\n")
}

func (s *scaffold) writeScopes(b *strings.Builder, scopes map[string]string) {
	if len(scopes) == 0 {
		return
	}
	fmt.Fprintf(b, "# Keep only the scopes this integration needs, described so an admin\n# understands what they grant.\nscopes:\n")
	for _, n := range sortedKeys(scopes) {
		d := firstSentence(scopes[n])
		if d == "" || d == n {
			d = "TODO: say in plain language what " + n + " grants"
		}
		fmt.Fprintf(b, "  - name: %s\n    description: %s\n", q(n), q(d))
	}
}

// cursorParams are list parameters that carry a cursor, and nextNames the
// response fields that hold the next one.
var (
	cursorParams = []string{"after", "cursor", "starting_after", "page_token", "pageToken", "next_page_token", "page[after]"}
	nextNames    = map[string]bool{"next_cursor": true, "after": true, "starting_after": true, "next_page_token": true, "nextPageToken": true, "after_cursor": true, "cursor": true}
	limitParams  = []string{"limit", "per_page", "page_size", "pageSize", "page[size]", "count"}
)

func (s *scaffold) writePagination(b *strings.Builder) {
	ep := s.endpoints["list"]
	if ep == nil {
		return
	}
	params := map[string]bool{}
	for _, r := range ep.op.Parameters {
		if r != nil && r.Value != nil && r.Value.In == openapi3.ParameterInQuery {
			params[r.Value.Name] = true
		}
	}
	limit := ""
	for _, l := range limitParams {
		if params[l] {
			limit = l
			break
		}
	}
	writeLimit := func() {
		if limit != "" {
			fmt.Fprintf(b, "  limit_param: %s\n  limit: 100\n", q(limit))
		}
	}
	for _, c := range cursorParams {
		if !params[c] {
			continue
		}
		if next := findNext(responseSchema(ep.op), "", 0); next != "" {
			fmt.Fprintf(b, "pagination:\n  style: cursor\n  param: %s\n", q(c))
			writeLimit()
			fmt.Fprintf(b, "  next: %s\n", next)
			return
		}
	}
	for _, style := range []string{"offset", "page"} {
		if params[style] {
			fmt.Fprintf(b, "pagination:\n  style: %s\n  param: %s\n", style, style)
			writeLimit()
			return
		}
	}
}

// findNext looks for the next cursor in a list response (paging.next.after).
func findNext(x *openapi3.Schema, prefix string, depth int) string {
	if x == nil || depth > 3 {
		return ""
	}
	for _, n := range sortedKeys(x.Properties) {
		v := val(x.Properties[n])
		if v == nil || !plainName.MatchString(n) {
			continue
		}
		if nextNames[n] && types(v, 0)["string"] && (depth > 0 || n != "cursor") {
			return prefix + n
		}
		if types(v, 0)["object"] && !types(v, 0)["array"] {
			if found := findNext(v, prefix+n+".", depth+1); found != "" {
				return found
			}
		}
	}
	return ""
}

// takesForms reports whether the writes found take only form bodies.
func (s *scaffold) takesForms() bool {
	forms := false
	for _, role := range []string{"create", "update"} {
		ep := s.endpoints[role]
		if ep == nil || ep.op == nil || ep.op.RequestBody == nil || ep.op.RequestBody.Value == nil {
			continue
		}
		content := ep.op.RequestBody.Value.Content
		if content.Get("application/x-www-form-urlencoded") == nil {
			return false
		}
		for mt := range content {
			if mt == "application/json" || strings.HasSuffix(mt, "+json") {
				return false
			}
		}
		forms = true
	}
	return forms
}
