package contracttest_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/contracttest"
)

// The file sits beside the example's, so its relative paths resolve.
const suiteFile = "../../docs/examples/stripe-to-hubspot/tests/t.test.yaml"

const suiteHead = "accord: test/v1\ncontract: ../contracts/stripe-to-hubspot.yaml\ncases:\n"

// Every problem in a test file is reported at its line and column, with
// what to write instead.
func TestParseSuiteDiagnostics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, src, want string }{
		{"typo in a key", suiteHead + "  - name: a\n    event: events/subscription-created.json\n    expcet: {outcome: applied}\n",
			`t.test.yaml:6:5: unknown key "expcet" in a case: did you mean "expect"? use name, cassette, partner, steps, event, set, type, headers, from, pad_to, retry, expect`},
		{"unknown outcome", suiteHead + "  - name: a\n    event: events/subscription-created.json\n    expect: {outcome: done}\n",
			`t.test.yaml:6:23: outcome "done": use one of applied, unchanged, stale, filtered, failed, no_installation, retry, duplicate, ignored, rejected`},
		{"a step that checks nothing", suiteHead + "  - name: a\n    event: events/subscription-created.json\n",
			"t.test.yaml:4:5: a step needs an `expect:`"},
		{"missing event file", suiteHead + "  - name: a\n    event: events/nope.json\n    expect: {outcome: applied}\n",
			"t.test.yaml:5:12: event file events/nope.json cannot be read"},
		{"fault without an operation", suiteHead + "  - name: a\n    partner: {fail: [{on: hubspot.company, class: rate_limited}]}\n    event: events/subscription-created.json\n    expect: {outcome: retry}\n",
			`t.test.yaml:5:27: on "hubspot.company": write provider.object.operation`},
		{"unknown class", suiteHead + "  - name: a\n    partner: {fail: [{on: hubspot.company.create, class: throttled}]}\n    event: events/subscription-created.json\n    expect: {outcome: retry}\n",
			`t.test.yaml:5:58: class "throttled": use one of auth, permission, validation, rate_limited, transient, not_found`},
		{"retry first", suiteHead + "  - name: a\n    retry: true\n    expect: {outcome: applied}\n",
			"t.test.yaml:4:5: the first step cannot be `retry: true`"},
		{"request without a path", suiteHead + "  - name: a\n    event: events/subscription-created.json\n    expect: {requests: [{method: POST}]}\n",
			"t.test.yaml:6:25: a request needs `method:` and `path:`"},
		{"duplicate names", suiteHead + "  - {name: a, event: events/subscription-created.json, expect: {outcome: applied}}\n  - {name: a, event: events/subscription-created.json, expect: {outcome: applied}}\n",
			`t.test.yaml:5:5: two cases are named "a"`},
		{"wrong format", "accord: test/v2\ncontract: ../contracts/stripe-to-hubspot.yaml\ncases: []\n",
			`t.test.yaml:1:9: unknown format "test/v2": a test file says ` + "`accord: test/v1`"},
		{"missing contract", "accord: test/v1\ncontract: nope.yaml\ncases:\n  - {name: a, event: events/subscription-created.json, expect: {outcome: applied}}\n",
			"t.test.yaml:2:11: contract nope.yaml cannot be read"},
		{"bad YAML", "accord: test/v1\ncases: [\n", "t.test.yaml:2:1: not valid YAML: line 2: did not find expected node content"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, diags := contracttest.ParseSuite(suiteFile, []byte(tc.src))
			require.NotEmpty(t, diags)
			require.Contains(t, diags.Error(), tc.want)
		})
	}
}

// The file's partner state is every case's starting point, and an anchor
// written once is reused.
func TestParseSuiteSharedPartnerAndAnchors(t *testing.T) {
	t.Parallel()
	src := "accord: test/v1\ncontract: ../contracts/stripe-to-hubspot.yaml\n" +
		"partner: {records: {stripe.customer: [{id: cus_1, name: Acme}]}}\n" +
		"cases:\n" +
		"  - name: a\n    partner: {fail: [&slow {on: hubspot.company.create, class: transient, times: 2}]}\n" +
		"    steps:\n      - &send {event: events/subscription-created.json, set: {created: 5}, expect: {outcome: retry, retry_after: 1s}}\n      - {retry: true, expect: {outcome: applied}}\n" +
		"  - name: b\n    partner: {fail: [*slow]}\n    steps: [*send]\n"
	s, diags := contracttest.ParseSuite(suiteFile, []byte(src))
	require.Empty(t, diags)
	require.Len(t, s.Cases, 2)
	for _, c := range s.Cases {
		require.Len(t, c.Records["stripe.customer"], 1)
		require.Len(t, c.Faults, 1)
		require.Equal(t, 2, c.Faults[0].Times)
		require.Equal(t, "retry", c.Steps[0].Expect.Outcome)
		require.Equal(t, float64(5), c.Steps[0].Set["created"])
		require.Equal(t, "sub_1QacmeMonthly", c.Steps[0].Event["data"].(map[string]any)["object"].(map[string]any)["id"])
	}
	require.True(t, s.Cases[0].Steps[1].Retry)
	require.True(t, strings.HasSuffix(s.Contract, "stripe-to-hubspot.yaml"))
}

func FuzzParseSuite(f *testing.F) {
	f.Add([]byte(suiteHead + "  - {name: a, event: {id: 1}, expect: {outcome: applied, requests: [{method: GET, path: /x}]}}\n"))
	f.Add([]byte("accord: test/v1\npartner: {records: {a.b: [{}]}, fail: [{on: a.b.create, status: 429}]}\ncases: [{name: x, steps: [{retry: true}]}]\n"))
	f.Add([]byte("cases: [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, diags := contracttest.ParseSuite(suiteFile, data)
		if (s == nil) == (len(diags) == 0) {
			t.Fatalf("want a suite or diagnostics, got %v and %d diagnostics", s, len(diags))
		}
		for _, d := range diags {
			if d.Message == "" {
				t.Fatal("a diagnostic without a message")
			}
		}
	})
}
