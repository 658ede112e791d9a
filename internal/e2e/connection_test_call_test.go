package e2e

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConnectionTestCallsThePartnerTheEngineWritesTo: "test connection"
// reaches the partner at the base URL the engine writes to (here a test
// server named through the manifest's ${INCIDENTS_URL}), not at the
// manifest's default address: the demo and tests answer those variables
// without touching the process environment.
func TestConnectionTestCallsThePartnerTheEngineWritesTo(t *testing.T) {
	t.Parallel()
	e := setup(t, "sqlite")
	before := len(e.incidentCalls.all())
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost,
		e.url+"/api/v1/tenants/"+tenantID+"/connections/"+e.incidentsConn+"/test", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.Equal(t, http.StatusOK, resp.StatusCode, "%v", out)
	require.Equal(t, "active", out["state"], "%v", out)
	calls := e.incidentCalls.all()[before:]
	require.Len(t, calls, 1, "the test call went to the incidents server the engine writes to")
	require.Equal(t, "/v1/incidents", calls[0].Path)
}
