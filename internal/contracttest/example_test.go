package contracttest_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/contracttest"
)

const exampleSuite = "../../docs/examples/stripe-to-hubspot/tests/stripe-to-hubspot.test.yaml"

// The shipped Stripe → HubSpot example passes, its recorded case included:
// the example cannot rot.
func TestStripeToHubSpotExample(t *testing.T) {
	t.Parallel()
	catalog, err := contracttest.Catalog()
	require.NoError(t, err)
	rep, diags, err := contracttest.RunFile(t.Context(), exampleSuite, catalog, &contracttest.Config{TempDir: t.TempDir()})
	require.NoError(t, err)
	require.Empty(t, diags)
	var out bytes.Buffer
	rep.Print(&out)
	require.Zero(t, rep.Failed(), out.String())
	require.Len(t, rep.Cases, 7)
}

// Every test file shipped with the packs and the docs passes: they are
// the examples authors copy, and the seed's cases (duplicate delivery,
// out-of-order, 429 with Retry-After, permission revoked, oversized
// payload) for the shipped contracts.
func TestShippedTestFiles(t *testing.T) {
	t.Parallel()
	files, err := contracttest.FindSuites("../../packs", "../../docs/examples")
	require.NoError(t, err)
	require.Len(t, files, 3)
	catalog, err := contracttest.Catalog()
	require.NoError(t, err)
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			rep, diags, err := contracttest.RunFile(t.Context(), f, catalog, &contracttest.Config{TempDir: t.TempDir()})
			require.NoError(t, err)
			require.Empty(t, diags)
			var out bytes.Buffer
			rep.Print(&out)
			require.Zero(t, rep.Failed(), out.String())
		})
	}
}

// A partner that batches its webhooks (HubSpot: one signed POST holding an
// array of events) runs each case's event as a batch of one through the
// real ingress: duplicates, filtered and ignored events included.
func TestBatchedWebhookProvider(t *testing.T) {
	t.Parallel()
	catalog, err := contracttest.Catalog()
	require.NoError(t, err)
	rep, diags, err := contracttest.RunFile(t.Context(), "testdata/hubspot-deal-won/tests/deal-won.test.yaml", catalog, &contracttest.Config{TempDir: t.TempDir()})
	require.NoError(t, err)
	require.Empty(t, diags)
	var out bytes.Buffer
	rep.Print(&out)
	require.Zero(t, rep.Failed(), out.String())
	require.Len(t, rep.Cases, 3)
}
