package catalogcheck

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/accordhq/accord/internal/spec"
)

var trimFixtures = flag.Bool("trim", false, "rewrite testdata/vendor/*.json from ../shared/specs")

// trimmedDocuments are the vendor documents whose licence (MIT) lets us
// keep a copy: trimmed to the paths the catalog manifest names and the
// components those reach, with descriptions, examples and x- extensions
// dropped. testdata/vendor/NOTICE.md carries the licences.
var trimmedDocuments = []struct {
	provider, source string
	paths            []string
}{
	{"stripe", "stripe-openapi-spec3.yaml", []string{"/v1/customers", "/v1/customers/{customer}", "/v1/subscriptions", "/v1/subscriptions/{subscription_exposed_id}"}},
	{"slack", "slack-web-openapi-v2.json", []string{"/chat.postMessage", "/auth.test"}},
	{"intercom", "intercom-openapi.yaml", []string{"/contacts", "/contacts/{contact_id}", "/conversations", "/conversations/{conversation_id}", "/me"}},
}

// The catalog's MIT-licensed vendors are checked offline, against trimmed
// copies, even when ../shared/specs is absent.
func TestCatalogMatchesTrimmedVendorDocuments(t *testing.T) {
	t.Parallel()
	for _, tc := range trimmedDocuments {
		t.Run(tc.provider, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join("testdata", "vendor", tc.provider+".json")
			if *trimFixtures {
				data, err := os.ReadFile(filepath.Join(sharedSpecs, tc.source))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(out, trimDocument(t, data, tc.paths), 0o644))
			}
			p, diags := spec.LoadProvider(filepath.Join(catalogDir, "providers", tc.provider+".yaml"))
			require.Empty(t, diags, diags.Error())
			doc, err := LoadDocument(out)
			require.NoError(t, err, "regenerate with: go test ./internal/catalogcheck -run Trimmed -trim")
			drift := Check(p, doc)
			require.Empty(t, drift, drift.Error())
		})
	}
}

func trimDocument(t *testing.T, data []byte, paths []string) []byte {
	t.Helper()
	var doc map[string]any
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		require.NoError(t, json.Unmarshal(data, &doc))
	} else {
		require.NoError(t, yaml.Unmarshal(data, &doc))
	}
	out := map[string]any{}
	for _, k := range []string{"openapi", "swagger", "info", "servers", "host", "basePath", "schemes", "security", "securityDefinitions"} {
		if v, ok := doc[k]; ok {
			out[k] = v
		}
	}
	all := doc["paths"].(map[string]any)
	kept := map[string]any{}
	for _, p := range paths {
		require.Contains(t, all, p)
		kept[p] = all[p]
	}
	out["paths"] = kept
	if c, ok := doc["components"].(map[string]any); ok {
		if ss, ok := c["securitySchemes"]; ok {
			out["components"] = map[string]any{"securitySchemes": ss}
		}
	}
	// Copy every component the kept paths reach, transitively.
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch n := v.(type) {
		case map[string]any:
			if ref, ok := n["$ref"].(string); ok && strings.HasPrefix(ref, "#/") && !seen[ref] {
				seen[ref] = true
				parts := strings.Split(ref[2:], "/")
				src, dst := any(doc), any(out)
				for i, part := range parts {
					part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
					sm, ok := src.(map[string]any)
					if !ok {
						break
					}
					src = sm[part]
					dm := dst.(map[string]any)
					if i == len(parts)-1 {
						dm[part] = src
						walk(src)
						break
					}
					next, ok := dm[part].(map[string]any)
					if !ok {
						next = map[string]any{}
						dm[part] = next
					}
					dst = next
				}
			}
			keys := make([]string, 0, len(n))
			for k := range n {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(n[k])
			}
		case []any:
			for _, c := range n {
				walk(c)
			}
		}
	}
	walk(kept)
	strip(out, "")
	b, err := json.Marshal(out)
	require.NoError(t, err)
	return append(b, '\n')
}

// strip drops descriptions, examples and x- extensions, except where they
// are property names.
func strip(v any, parentKey string) {
	switch n := v.(type) {
	case map[string]any:
		for k, c := range n {
			if parentKey != "properties" && parentKey != "paths" && (k == "description" || k == "example" || k == "examples" || strings.HasPrefix(k, "x-")) {
				if _, isString := c.(string); isString || k != "description" {
					delete(n, k)
					continue
				}
			}
			strip(c, k)
		}
	case []any:
		for _, c := range n {
			strip(c, "")
		}
	}
}
