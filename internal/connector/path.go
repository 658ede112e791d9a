package connector

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

var placeholder = regexp.MustCompile(`\{([^{}]*)\}`)

// expandPath fills an endpoint's path template. {id} and {external_id} come
// from the call; any other {name} is taken from doc's top-level field and
// deleted from doc, since it addresses the request rather than describing the
// object. Values are escaped for where they land: a query value after the
// '?', and before it exactly one path segment, so an id cannot add segments
// or parameters ('/', '?', '#' and '%' are escaped). A path value that is
// empty, "." or ".." is refused with ErrBadPathSegment: escaping leaves
// dots alone, and a server (or proxy) resolves /recs/.. to / — the write
// would land on another resource.
func expandPath(tmpl, id, externalID string, doc map[string]any) (string, error) {
	path, query, hasQuery := strings.Cut(tmpl, "?")
	var firstErr error
	fill := func(part string, inPath bool) string {
		return placeholder.ReplaceAllStringFunc(part, func(m string) string {
			name := m[1 : len(m)-1]
			var v string
			ok := false
			switch name {
			case "id":
				v, ok = id, id != ""
			case "external_id":
				v, ok = externalID, externalID != ""
			default:
				if raw, present := doc[name]; present && raw != nil {
					v, ok = scalarString(raw), true
					delete(doc, name)
				}
			}
			var err error
			switch {
			case inPath && (v == "" || v == "." || v == ".."):
				// An absent value is also missing; both sentinels match so
				// callers asking either question get the right answer.
				err = fmt.Errorf("{%s} = %q: %w", name, v, ErrBadPathSegment)
				if !ok || v == "" {
					err = fmt.Errorf("{%s}: %w: %w", name, ErrMissingParam, ErrBadPathSegment)
				}
			case !ok || v == "":
				err = fmt.Errorf("{%s}: %w", name, ErrMissingParam)
			}
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return m
			}
			if inPath {
				return url.PathEscape(v)
			}
			return url.QueryEscape(v)
		})
	}
	out := fill(path, true)
	if hasQuery {
		out += "?" + fill(query, false)
	}
	if firstErr != nil {
		return "", firstErr
	}
	return out, nil
}

// scalarString formats an id or path value the way it reads in JSON.
func scalarString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	default:
		return fmt.Sprint(x)
	}
}

// lookup walks a dotted JSON path (error.message, data.0.id) through decoded
// JSON; a numeric segment indexes an array. The empty path is v itself.
func lookup(v any, path string) (any, bool) {
	cur := v
	for path != "" {
		var seg string
		seg, path, _ = strings.Cut(path, ".")
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[seg]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// wrapBody nests doc under a dotted key (incident, data.attributes); the
// empty key sends doc as is.
func wrapBody(key string, doc map[string]any) map[string]any {
	if key == "" {
		return doc
	}
	segs := strings.Split(key, ".")
	out := doc
	for i := len(segs) - 1; i >= 0; i-- {
		out = map[string]any{segs[i]: out}
	}
	return out
}

// copyDoc returns a shallow copy of doc, so that removing path fields never
// touches the caller's map.
func copyDoc(doc map[string]any) map[string]any {
	out := make(map[string]any, len(doc))
	maps.Copy(out, doc)
	return out
}
