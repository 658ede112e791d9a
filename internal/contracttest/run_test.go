package contracttest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/contracttest"
)

// writeSuite writes src as a test file beside the example's events.
func writeSuite(t *testing.T, src string) string {
	t.Helper()
	file := filepath.Join(filepath.Dir(exampleCopy(t)), "more.test.yaml")
	require.NoError(t, os.WriteFile(file, []byte(suiteHead+src), 0o600))
	return file
}

// A case whose expectations are wrong fails, saying where and how: the
// outcome with the record error behind it, and the requests as a diff with
// the first difference named.
func TestFailuresSayWhatDiffers(t *testing.T) {
	t.Parallel()
	file := writeSuite(t, `  - name: wrong body
    partner: {records: {stripe.customer: [{id: cus_QacmeInc, name: Acme Inc}]}}
    event: events/subscription-created.json
    expect:
      requests:
        - {method: GET, path: /v1/customers/cus_QacmeInc}
        - {method: POST, path: /crm/v3/objects/companies, body: {properties: {name: ACME}}}
  - name: the customer is not in Stripe
    event: events/subscription-created.json
    expect: {outcome: applied}
`)
	rep := runSuite(t, file, contracttest.Config{})
	require.Equal(t, 2, rep.Failed())
	out := printed(rep)
	require.Contains(t, out, "FAIL  wrong body ("+file+":4:5)")
	require.Contains(t, out, "step 1 ("+file+":4:5): partner requests differ: request 2: body.properties.name: want \"ACME\", got \"Acme Inc\"")
	require.Contains(t, out, `- POST /crm/v3/objects/companies {"properties":{"name":"ACME"}} (at least)`)
	require.Contains(t, out, `+ POST /crm/v3/objects/companies {"properties":{"lifecyclestage":"customer","name":"Acme Inc"}} → 201`)
	require.Contains(t, out, "outcome: want applied, got failed (record error not_found)")
}

// Cases do not see each other's partner records or links: each runs as a
// tenant of its own against partners of its own.
func TestCasesAreIsolated(t *testing.T) {
	t.Parallel()
	create := `    partner: {records: {stripe.customer: [{id: cus_QacmeInc, name: Acme Inc}]}}
    event: events/subscription-created.json
    expect: {outcome: applied, requests: [{method: GET, path: /v1/customers/cus_QacmeInc}, {method: POST, path: /crm/v3/objects/companies}]}
`
	rep := runSuite(t, writeSuite(t, "  - name: one\n"+create+"  - name: two\n"+create), contracttest.Config{})
	require.Zero(t, rep.Failed(), printed(rep))
}
