package e2e

import (
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEditedConnectionSettingReachesTheNextCall: the incidents manifest
// sends a connection setting as a header; an admin changes the setting
// through the API and the very next incident is opened with the new
// value (the engine's cached connection is forgotten), on both databases.
func TestEditedConnectionSettingReachesTheNextCall(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := setupWith(t, b, &setupOptions{Packs: packsWithTeamHeader(t)})

			tk := e.escalate("before the edit", "high", "")
			e.waitIncident(tk.ID)
			require.Equal(t, "", e.lastIncidentHeader("X-Team"), "no team yet")

			status, out := e.call(http.MethodPatch, "/api/v1/tenants/acme/connections/"+e.incidentsConn+"/settings",
				map[string]any{"settings": map[string]string{"team": "payments"}})
			require.Equal(t, http.StatusOK, status, out)
			require.Equal(t, map[string]any{"team": "payments"}, out["settings"])

			tk = e.escalate("after the edit", "high", "")
			e.waitIncident(tk.ID)
			require.Equal(t, "payments", e.lastIncidentHeader("X-Team"), "the next call carries the new value")

			status, out = e.call(http.MethodPatch, "/api/v1/tenants/acme/connections/"+e.incidentsConn+"/settings",
				map[string]any{"settings": map[string]string{"squad": "x"}})
			require.Equal(t, http.StatusUnprocessableEntity, status, out)
			require.Contains(t, out["detail"], `connection setting "squad" is not declared by provider incidents: its settings are team`)
		})
	}
}

// packsWithTeamHeader copies the shipped packs with the incidents
// provider declaring an optional team setting sent as X-Team.
func packsWithTeamHeader(t *testing.T) string {
	t.Helper()
	src, dst := packsDir(t), t.TempDir()
	require.NoError(t, filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if rel == filepath.Join("support-escalation", "providers", "incidents.yaml") {
			raw = []byte(strings.Replace(string(raw), "title: Incidents\n", "title: Incidents\n"+
				"connection_settings:\n  team: {description: The on-call team incidents are opened for, optional: true}\n"+
				"headers:\n  X-Team: \"{connection.team}\"\n", 1))
		}
		return os.WriteFile(filepath.Join(dst, rel), raw, 0o644)
	}))
	return dst
}

// lastIncidentHeader returns header name of the last request that
// created an incident (the escalations here run one after the other).
func (e *env) lastIncidentHeader(name string) string {
	e.t.Helper()
	var got *call
	for _, c := range e.incidentCalls.all() {
		if c.Method == http.MethodPost && c.Status < 300 && strings.HasSuffix(c.Path, "/incidents") {
			got = &c
		}
	}
	require.NotNil(e.t, got, "no incident was created")
	return got.Header.Get(name)
}
