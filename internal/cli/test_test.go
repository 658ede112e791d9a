package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/contracttest"
)

const exampleDir = "../../docs/examples/stripe-to-hubspot"

func TestTestRunsTheExample(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "test", exampleDir)
	require.Equal(t, 0, code, out+errOut)
	require.Contains(t, out, "ok    against HubSpot's sandbox, as recorded")
	require.Contains(t, out, "ok: 7 cases passed in 1 file\n")
}

func TestTestFailsWithTheDiff(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(exampleDir)))
	file := filepath.Join(dir, "tests", "stripe-to-hubspot.test.yaml")
	src, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, bytes.Replace(src, []byte("lifecyclestage: customer"), []byte("lifecyclestage: lead"), 1), 0o600))
	code, out, errOut := run(t, "test", dir)
	require.Equal(t, 1, code)
	require.Contains(t, out, `body.properties.lifecyclestage: want "lead", got "customer"`)
	require.Equal(t, "FAIL: 1 of 7 cases failed\n", errOut)
}

// --record with --connection sends the recorded case to the sandbox with
// the credential from the environment, and writes a cassette without it.
func TestTestRecordsFromASandbox(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(exampleDir)))
	catalog, err := contracttest.Catalog()
	require.NoError(t, err)
	sandbox := func(provider, token string) string {
		m := contracttest.NewMockPartner(catalog[provider], nil, nil)
		if provider == "stripe" {
			require.NoError(t, m.Seed("customer", []map[string]any{{"id": "cus_QacmeInc", "name": "Acme Inc"}}))
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+token {
				http.Error(w, `{"message":"bad token"}`, http.StatusUnauthorized)
				return
			}
			m.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	env := map[string]string{"ACCORD_SANDBOX_HUBSPOT_TOKEN": "hub-secret-1", "ACCORD_SANDBOX_STRIPE_TOKEN": "rk_test_secret-2"}
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"test", "--record", "--allow-loopback-partners",
		"--connection", "hubspot=" + sandbox("hubspot", "hub-secret-1"), "--connection", "stripe=" + sandbox("stripe", "rk_test_secret-2"), dir},
		&Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	require.Equal(t, 0, code, out.String()+errb.String())
	cassette, err := os.ReadFile(filepath.Join(dir, "tests", "cassettes", "subscription-created.yaml"))
	require.NoError(t, err)
	require.NotContains(t, string(cassette), "hub-secret-1")
	require.NotContains(t, string(cassette), "rk_test_secret-2")
	require.Contains(t, string(cassette), "company_1001", "the sandbox's answer was recorded")
}

func TestTestNeedsTheSandboxCredential(t *testing.T) {
	t.Parallel()
	code, _, errOut := run(t, "test", "--record", "--connection", "hubspot=https://api.hubapi.com", exampleDir)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "set ACCORD_SANDBOX_HUBSPOT_TOKEN to the sandbox's credential")
	code, _, errOut = run(t, "test", "--connection", "hubspot=https://api.hubapi.com", exampleDir)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "--connection is for --record")
	code, _, errOut = run(t, "test", t.TempDir())
	require.Equal(t, 1, code)
	require.True(t, strings.Contains(errOut, "no test files"), errOut)
}
