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
