package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/web/api"
)

// TestCatalogSaysWhatIsAskedAndInstallRecordsConsent: the catalog lists
// each contract with its explanation, scopes with why, data stored and
// retention, and rollout stage; installing writes who consented to which
// scopes of which version in the audit log.
func TestCatalogSaysWhatIsAskedAndInstallRecordsConsent(t *testing.T) {
	t.Parallel()
	b := setupClientWith(t, func(d *api.Deps) { d.Rollout = map[string]string{"escalation": "beta"} })
	status, got := call(t, b, http.MethodGet, "/api/v1/catalog", nil)
	require.Equal(t, http.StatusOK, status)
	contracts := got["contracts"].([]any)
	require.Len(t, contracts, 1)
	c := contracts[0].(map[string]any)
	require.Equal(t, "escalation", c["name"])
	require.Equal(t, "beta", c["rollout"])
	require.Equal(t, "30 days", c["uninstall_retention"])
	require.NotEmpty(t, c["explanation"])
	require.NotEmpty(t, c["stored"])
	perms := c["permissions"].([]any)
	require.Len(t, perms, 2, "one scope per provider of the test contract")
	for _, p := range perms {
		require.NotEmpty(t, p.(map[string]any)["description"])
	}

	// Install (through the client, which names no one) and read the
	// consent back.
	inst, _ := b.install(t)
	entries, err := b.st.ListAudit(t.Context(), "acme", 0, 100)
	require.NoError(t, err)
	var consent map[string]any
	for _, e := range entries {
		if e.Action == "installation.consented" && e.Subject == inst.ID {
			require.Equal(t, "operator", e.Actor)
			require.NoError(t, json.Unmarshal(e.Detail, &consent))
		}
	}
	require.NotNil(t, consent, "consent recorded")
	require.Equal(t, "1.0.0", consent["contract_version"])
	require.Len(t, consent["scopes"], 2)
}
