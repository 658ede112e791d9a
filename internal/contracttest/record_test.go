package contracttest_test

import (
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/contracttest"
)

var update = flag.Bool("update", false, "re-record the shipped example's cassette (against this file's fake sandboxes)")

const (
	hubspotToken = "pat-na1-0b5e-not-a-real-token"
	stripeKey    = "rk_test_51-not-a-real-key"
)

// sandboxes are stand-ins for HubSpot's and Stripe's test accounts on
// loopback: they answer as the vendors document, and only to the right
// credential.
func sandboxes(t *testing.T) (hubspot, stripe *httptest.Server) {
	t.Helper()
	answer := func(w http.ResponseWriter, status int, body string) {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.Header().Set("Set-Cookie", "__cf_bm=session-cookie-value; path=/")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
	hubspot = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+hubspotToken {
			answer(w, 401, `{"status":"error","message":"Authentication credentials not found.","category":"INVALID_AUTHENTICATION"}`)
			return
		}
		var in struct{ Properties map[string]string }
		if r.Method != http.MethodPost || r.URL.Path != "/crm/v3/objects/companies" || json.NewDecoder(r.Body).Decode(&in) != nil {
			answer(w, 404, `{"status":"error","message":"not found","category":"OBJECT_NOT_FOUND"}`)
			return
		}
		in.Properties["hs_object_id"] = "31415926535"
		props, _ := json.Marshal(in.Properties)
		answer(w, 201, `{"id":"31415926535","properties":`+string(props)+`,"createdAt":"2026-01-01T00:00:01.000Z","updatedAt":"2026-01-01T00:00:01.000Z","archived":false}`)
	}))
	t.Cleanup(hubspot.Close)
	stripe = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+stripeKey || r.URL.Path != "/v1/customers/cus_QacmeInc" {
			answer(w, 401, `{"error":{"message":"Invalid API Key provided","type":"invalid_request_error"}}`)
			return
		}
		answer(w, 200, `{"id":"cus_QacmeInc","object":"customer","name":"Acme Inc","email":"billing@acme.example","currency":"usd","balance":0,"delinquent":false,"created":1767225600,"metadata":{}}`)
	}))
	t.Cleanup(stripe.Close)
	return hubspot, stripe
}

func exampleCopy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS("../../docs/examples/stripe-to-hubspot")))
	return filepath.Join(dir, "tests", "stripe-to-hubspot.test.yaml")
}

func runSuite(t *testing.T, file string, cfg contracttest.Config) *contracttest.Report {
	t.Helper()
	catalog, err := contracttest.Catalog()
	require.NoError(t, err)
	cfg.TempDir = t.TempDir()
	rep, diags, err := contracttest.RunFile(t.Context(), file, catalog, &cfg)
	require.NoError(t, err)
	require.Empty(t, diags)
	return rep
}

func printed(rep *contracttest.Report) string {
	var b strings.Builder
	rep.Print(&b)
	return b.String()
}

// --record sends the cassette case to the sandboxes and writes what they
// answered, credentials redacted; replay then passes with the sandboxes
// gone, and fails on a request the cassette does not have.
func TestRecordThenReplay(t *testing.T) {
	t.Parallel()
	file := exampleCopy(t)
	cassette := filepath.Join(filepath.Dir(file), "cassettes", "subscription-created.yaml")
	require.NoError(t, os.RemoveAll(filepath.Dir(cassette)))
	hubspot, stripe := sandboxes(t)
	rep := runSuite(t, file, contracttest.Config{Record: true, AllowLoopback: true, Sandboxes: map[string]contracttest.Sandbox{
		"hubspot": {BaseURL: hubspot.URL, Secret: hubspotToken},
		"stripe":  {BaseURL: stripe.URL, Secret: stripeKey},
	}})
	require.Zero(t, rep.Failed(), printed(rep))

	raw, err := os.ReadFile(cassette)
	require.NoError(t, err)
	text := string(raw)
	for _, secret := range []string{hubspotToken, stripeKey, "session-cookie-value", "127.0.0.1"} {
		require.NotContains(t, text, secret)
	}
	require.Contains(t, text, "http://hubspot.sandbox/crm/v3/objects/companies")
	require.Contains(t, text, "http://stripe.sandbox/v1/customers/cus_QacmeInc")
	require.Contains(t, text, contracttest.Redacted)
	require.Contains(t, text, "31415926535", "the sandbox's own answer is what replays")
	if *update {
		require.NoError(t, os.WriteFile("../../docs/examples/stripe-to-hubspot/tests/cassettes/subscription-created.yaml", raw, 0o644))
	}

	hubspot.Close()
	stripe.Close()
	rep = runSuite(t, file, contracttest.Config{})
	require.Zero(t, rep.Failed(), printed(rep))

	_, recorded, _ := strings.Cut(text, "interactions:\n")
	require.NoError(t, os.WriteFile(cassette, []byte(text+recorded), 0o600))
	rep = runSuite(t, file, contracttest.Config{})
	require.Equal(t, 1, rep.Failed())
	require.Contains(t, printed(rep), "2 exchanges recorded in "+cassette+" were not requested: the contract changed since the recording")

	require.NoError(t, os.WriteFile(cassette, []byte(strings.ReplaceAll(text, "/crm/v3/objects/companies", "/crm/v3/objects/contacts")), 0o600))
	rep = runSuite(t, file, contracttest.Config{})
	require.Equal(t, 1, rep.Failed())
	out := printed(rep)
	require.Contains(t, out, "FAIL  against HubSpot's sandbox, as recorded")
	require.Contains(t, out, "POST /crm/v3/objects/companies to hubspot: the cassette has no exchange for this request")
}

// A loopback sandbox is refused unless allowed, as allow_loopback_partners
// does for the server: the tape's outbound hop is the connector's guarded
// client.
func TestRecordRefusesLoopbackUnlessAllowed(t *testing.T) {
	t.Parallel()
	file := exampleCopy(t)
	hubspot, stripe := sandboxes(t)
	rep := runSuite(t, file, contracttest.Config{Record: true, Sandboxes: map[string]contracttest.Sandbox{
		"hubspot": {BaseURL: hubspot.URL, Secret: hubspotToken},
		"stripe":  {BaseURL: stripe.URL, Secret: stripeKey},
	}})
	require.Equal(t, 1, rep.Failed())
	require.Contains(t, printed(rep), "loopback")
}
