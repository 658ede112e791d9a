package catalogcheck

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

func TestCheckAuth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fixture, auth, want string
	}{
		{"zendesk-tickets.yaml", "{kind: basic}", ""},
		{"zendesk-tickets.yaml", "{kind: bearer}", "p.yaml:4:14: auth bearer matches none of the vendor's security schemes (basic: http basic)"},
		{"shopify-orders.yaml", "{kind: api_key, header: x-shopify-access-token}", ""},
		{"shopify-orders.yaml", "{kind: api_key, header: X-Api-Key}", "p.yaml:4:14: auth api_key in header X-Api-Key matches none of the vendor's security schemes (token: api key in header X-Shopify-Access-Token)"},
		{"hubspot-crm.yaml", "{kind: bearer}", ""},
		{"hubspot-crm.yaml", "{kind: api_key, header: Authorization, prefix: 'Bearer '}", ""},
		{"hubspot-crm.yaml", "{kind: basic}", "p.yaml:4:14: auth basic matches none of the vendor's security schemes (oauth2: oauth2)"},
		// No security schemes in the document: nothing to hold against it.
		{"github-issues.yaml", "{kind: basic}", ""},
	} {
		doc, err := LoadDocument(filepath.Join("testdata", tc.fixture))
		require.NoError(t, err)
		p, diags := spec.ParseProvider("p.yaml", []byte("accord: provider/v1\nname: p\nbase_url: https://example.com\nauth: "+tc.auth+"\nobjects: {}\n"))
		require.Empty(t, diags, diags.Error())
		got := Check(p, doc)
		if tc.want == "" {
			require.Empty(t, got, "%s %s: %s", tc.fixture, tc.auth, got.Error())
			continue
		}
		require.Equal(t, tc.want, got.Error(), "%s %s", tc.fixture, tc.auth)
	}
}
