package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAuthSchemeIsCaseInsensitive: RFC 7235 §2.1, the scheme is a
// case-insensitive token; the token itself is compared exactly.
func TestAuthSchemeIsCaseInsensitive(t *testing.T) {
	t.Parallel()
	b := setupClient(t)
	for header, want := range map[string]int{
		"Bearer " + clToken:        http.StatusOK,
		"bearer " + clToken:        http.StatusOK,
		"BEARER " + clToken:        http.StatusOK,
		"bEaReR   " + clToken:      http.StatusOK,
		"Bearer " + clToken + "x":  http.StatusUnauthorized,
		"Bearer":                   http.StatusUnauthorized,
		"Bearer" + clToken:         http.StatusUnauthorized,
		"Basic " + clToken:         http.StatusUnauthorized,
		"":                         http.StatusUnauthorized,
		"bearer " + upper(clToken): http.StatusUnauthorized,
	} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, b.url+"/api/v1/tenants/acme/connections", nil)
		require.NoError(t, err)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, want, resp.StatusCode, "Authorization: %q", header)
	}
}

func upper(s string) string {
	out := []byte(s)
	for i, c := range out {
		if c >= 'a' && c <= 'z' {
			out[i] = c - 'a' + 'A'
		}
	}
	return string(out)
}

func TestListConnectionsOfUnknownTenantIs404(t *testing.T) {
	t.Parallel()
	b := setupClient(t)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, b.url+"/api/v1/tenants/nobody/connections", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+clToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "application/json")
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var body map[string]any
	require.NoError(t, json.Unmarshal(raw, &body), string(raw))
	require.Equal(t, "not found", body["error"])

	// A tenant with no connections is an empty list, not a 404.
	_, err = b.client.CreateTenant(t.Context(), "empty", "Empty")
	require.NoError(t, err)
	list, err := b.client.ListConnections(t.Context(), "empty")
	require.NoError(t, err)
	require.Empty(t, list)
}
