package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/contracttest"
)

const (
	exampleContract = exampleDir + "/contracts/stripe-to-hubspot.yaml"
	exampleEvent    = exampleDir + "/tests/events/subscription-created.json"
)

// liveSandbox is a loopback stand-in for a partner's sandbox account that
// answers only to token and counts what it is sent.
type liveSandbox struct {
	url  string
	mu   sync.Mutex
	hits []string
}

func newLiveSandbox(t *testing.T, provider, token string, seed map[string][]map[string]any) *liveSandbox {
	t.Helper()
	catalog, err := contracttest.Catalog()
	require.NoError(t, err)
	m := contracttest.NewMockPartner(catalog[provider], nil, nil)
	for object, recs := range seed {
		require.NoError(t, m.Seed(object, recs))
	}
	s := &liveSandbox{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits = append(s.hits, r.Method+" "+r.URL.Path)
		s.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, `{"message":"bad token"}`, http.StatusUnauthorized)
			return
		}
		m.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

func (s *liveSandbox) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.hits...)
}

func runLive(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, &Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	return code, out.String(), errb.String()
}

// --live sends the dry run's requests through the engine and the
// connector to the sandbox, with the credential from the environment, and
// prints each answer.
func TestDryRunLiveSendsToTheSandbox(t *testing.T) {
	t.Parallel()
	hubspot := newLiveSandbox(t, "hubspot", "hub-live-token", nil)
	stripe := newLiveSandbox(t, "stripe", "rk_live_token", map[string][]map[string]any{"customer": {{"id": "cus_QacmeInc", "name": "Acme Inc"}}})
	env := map[string]string{"ACCORD_SANDBOX_HUBSPOT_TOKEN": "hub-live-token", "ACCORD_SANDBOX_STRIPE_TOKEN": "rk_live_token"}
	code, out, errOut := runLive(t, env, "dryrun", "--contract", exampleContract, "--event", exampleEvent, "--live", "--allow-loopback-partners",
		"--connection", "hubspot="+hubspot.url, "--connection", "stripe="+stripe.url)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, []string{"POST /crm/v3/objects/companies"}, hubspot.requests())
	require.Equal(t, []string{"GET /v1/customers/cus_QacmeInc"}, stripe.requests())
	for _, want := range []string{
		"requests it would send (credentials redacted):",
		"sent live (credentials redacted):",
		"stripe GET /v1/customers/cus_QacmeInc (sandbox)",
		`answer 200: {"id":"cus_QacmeInc","name":"Acme Inc"}`,
		"hubspot POST /crm/v3/objects/companies (sandbox)",
		`sent: {"properties":{"lifecyclestage":"customer","name":"Acme Inc"}}`,
		"answer 201: ",
		"outcome: applied\n",
	} {
		require.Contains(t, out, want)
	}
	require.NotContains(t, out, "hub-live-token")
}

// A sandbox on loopback is refused unless explicitly allowed: the dial
// guard of the connector's client is in force.
func TestDryRunLiveRefusesLoopbackUnlessAllowed(t *testing.T) {
	t.Parallel()
	stripe := newLiveSandbox(t, "stripe", "rk_live_token", nil)
	env := map[string]string{"ACCORD_SANDBOX_STRIPE_TOKEN": "rk_live_token"}
	code, out, errOut := runLive(t, env, "dryrun", "--contract", exampleContract, "--event", exampleEvent, "--live", "--connection", "stripe="+stripe.url)
	require.Equal(t, 0, code, errOut)
	require.Empty(t, stripe.requests())
	require.Contains(t, out, "stripe GET /v1/customers/cus_QacmeInc (sandbox)\n    no answer: ")
	require.Contains(t, out, "loopback")
	require.Contains(t, out, "outcome: retry (the engine would try again in 1s)")
}

func TestDryRunLiveNeedsAConnection(t *testing.T) {
	t.Parallel()
	code, _, errOut := run(t, "dryrun", "--contract", exampleContract, "--event", exampleEvent, "--live")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "--live needs a --connection")
}
