package catalogcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

var (
	catalogDir = filepath.Join("..", "..", "packs", "catalog")
	// sharedSpecs is ../shared/specs from the repository root: vendor
	// documents whose licence does not let us copy them.
	sharedSpecs = filepath.Join("..", "..", "..", "shared", "specs")
)

// vendorDocuments names the document each catalog manifest is checked
// against. shared documents are read from ../shared/specs and their check
// is skipped when it is absent; the others are fixtures in testdata/.
var vendorDocuments = []struct {
	provider, file string
	shared         bool
}{
	{"stripe", "stripe-openapi-spec3.yaml", true},
	{"slack", "slack-web-openapi-v2.json", true},
	{"intercom", "intercom-openapi.yaml", true},
	{"pagerduty", "pagerduty-rest-openapiv3.json", true},
	{"pagerduty-events", "pagerduty-events-v2-openapiv3.json", true},
	{"hubspot", "hubspot-crm.yaml", false},
	{"github", "github-issues.yaml", false},
	{"zendesk", "zendesk-tickets.yaml", false},
	{"shopify", "shopify-orders.yaml", false},
}

func documentPath(t *testing.T, file string, shared bool) string {
	t.Helper()
	if !shared {
		return filepath.Join("testdata", file)
	}
	path := filepath.Join(sharedSpecs, file)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("vendor document %s is not here (%v): check out the shared folder beside the repository (../shared/specs) to run this check", file, err)
	}
	return path
}

func TestCatalogLintsClean(t *testing.T) {
	t.Parallel()
	diags := spec.Lint(catalogDir)
	require.Empty(t, diags, diags.Error())

	files, err := filepath.Glob(filepath.Join(catalogDir, "providers", "*.yaml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 8)
	checked := map[string]bool{}
	for _, d := range vendorDocuments {
		checked[d.provider] = true
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(string(data), "# yaml-language-server: $schema=../../../schema/provider.v1.json\n"),
			"%s: start it with the yaml-language-server header so editors validate it", f)
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		require.True(t, checked[name], "%s has no vendor document to be checked against: add it to vendorDocuments", f)
	}
}

// The catalog loads beside the shipped packs with no provider defined twice.
func TestCatalogBesideShippedPacks(t *testing.T) {
	t.Parallel()
	catalog, diags := spec.LoadDir(catalogDir)
	require.Empty(t, diags, diags.Error())
	require.Empty(t, catalog.Contracts, "the catalog ships providers only")
	entries, err := os.ReadDir(filepath.Dir(catalogDir))
	require.NoError(t, err)
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "catalog" {
			continue
		}
		pack, _ := spec.LoadDir(filepath.Join(filepath.Dir(catalogDir), e.Name()))
		for name := range pack.Providers {
			require.NotContains(t, catalog.Providers, name, "provider %s is in both the catalog and packs/%s", name, e.Name())
		}
	}
}

func TestCatalogMatchesVendorDocuments(t *testing.T) {
	t.Parallel()
	for _, tc := range vendorDocuments {
		t.Run(tc.provider, func(t *testing.T) {
			t.Parallel()
			path := documentPath(t, tc.file, tc.shared)
			p, diags := spec.LoadProvider(filepath.Join(catalogDir, "providers", tc.provider+".yaml"))
			require.Empty(t, diags, diags.Error())
			doc, err := LoadDocument(path)
			require.NoError(t, err)
			drift := Check(p, doc)
			require.Empty(t, drift, "drift from %s:\n%s", tc.file, drift.Error())
		})
	}
}
