package spec

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// FindRequest fills a find endpoint's templates from the mapped document:
// {field} placeholders in path, query and request body take doc's
// top-level values. In the body, a string that is exactly "{field}" takes
// the value with its JSON type; other strings are filled as text. The
// request body is nil when the endpoint declares none.
func (e *Endpoint) FindRequest(doc map[string]any) (path string, query url.Values, body any, err error) {
	var missing []string
	text := func(name string) (string, bool) {
		v, ok := doc[name]
		if !ok || v == nil || fmt.Sprint(v) == "" {
			missing = append(missing, name)
			return "", false
		}
		return fmt.Sprint(v), true
	}
	fill := func(s string, escape func(string) string) string {
		return placeholderPattern.ReplaceAllStringFunc(s, func(m string) string {
			v, _ := text(m[1 : len(m)-1])
			return escape(v)
		})
	}
	pathPart, rawQuery, hasQuery := strings.Cut(e.Path, "?")
	path = fill(pathPart, url.PathEscape)
	if hasQuery {
		path += "?" + fill(rawQuery, url.QueryEscape)
	}
	if len(e.Query) > 0 {
		query = url.Values{}
		for _, k := range sortedKeys(e.Query) {
			query.Set(k, fill(e.Query[k], func(s string) string { return s }))
		}
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch t := v.(type) {
		case string:
			if m := placeholderPattern.FindStringSubmatch(t); m != nil && m[0] == t {
				if _, ok := text(m[1]); ok {
					return doc[m[1]]
				}
				return nil
			}
			return fill(t, func(s string) string { return s })
		case map[string]any:
			out := make(map[string]any, len(t))
			for k, x := range t {
				out[k] = walk(x)
			}
			return out
		case []any:
			out := make([]any, len(t))
			for i, x := range t {
				out[i] = walk(x)
			}
			return out
		}
		return v
	}
	if e.Request != nil {
		body = walk(e.Request)
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		missing = slices.Compact(missing)
		return "", nil, nil, fmt.Errorf("find %s: no value for {%s}", e.Path, strings.Join(missing, "}, {"))
	}
	return path, query, body, nil
}

// Placeholders lists the {name} placeholders of the endpoint's path,
// query values and request body, sorted and without repeats.
func (e *Endpoint) Placeholders() []string {
	seen := map[string]bool{}
	add := func(s string) {
		for _, m := range placeholderPattern.FindAllStringSubmatch(s, -1) {
			seen[m[1]] = true
		}
	}
	add(e.Path)
	for _, v := range e.Query {
		add(v)
	}
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case string:
			add(t)
		case map[string]any:
			for _, x := range t {
				walk(x)
			}
		case []any:
			for _, x := range t {
				walk(x)
			}
		}
	}
	walk(e.Request)
	return sortedKeys(seen)
}
