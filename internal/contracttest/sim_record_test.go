package contracttest_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/contracttest"
	"github.com/accordhq/accord/internal/sim"
)

// Recording the escalation pack against Accord's own incidents and chat
// simulators (partners written independently of the mock) makes the same
// requests the mock-based tests expect, and the recording replays.
func TestRecordAgainstTheSimulators(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS("../../packs/support-escalation")))
	file := filepath.Join(dir, "tests", "sim.test.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`accord: test/v1
contract: ../contracts/escalation.yaml
cases:
  - name: an escalated ticket, recorded from the simulators
    cassette: cassettes/escalated.yaml
    steps:
      - event: events/ticket-escalated.json
        expect:
          outcome: applied
          requests:
            - {method: GET, path: "/v1/incidents?external_id=T-42"}
            - {method: POST, path: /v1/incidents, body: {incident: {title: Checkout down, severity: 1, external_id: T-42}}}
            - {method: POST, path: /v1/channels/escalations/messages}
      - {event: events/ticket-escalated.json, set: {id: evt_2, data.version: 4}, expect: {outcome: applied, requests: []}}
`), 0o600))
	cfg := &sim.Config{Token: "sim-secret-token", RateLimit: -1}
	incidents := httptest.NewServer(sim.NewIncidents(cfg).Handler())
	t.Cleanup(incidents.Close)
	chat := httptest.NewServer(sim.NewChat(cfg).Handler())
	t.Cleanup(chat.Close)

	rep := runSuite(t, file, contracttest.Config{Record: true, AllowLoopback: true, Sandboxes: map[string]contracttest.Sandbox{
		"incidents": {BaseURL: incidents.URL, Secret: "sim-secret-token"},
		"chat":      {BaseURL: chat.URL, Secret: "sim-secret-token"},
	}})
	require.Zero(t, rep.Failed(), printed(rep))
	raw, err := os.ReadFile(filepath.Join(dir, "tests", "cassettes", "escalated.yaml"))
	require.NoError(t, err)
	require.NotContains(t, string(raw), "sim-secret-token")

	incidents.Close()
	chat.Close()
	rep = runSuite(t, file, contracttest.Config{})
	require.Zero(t, rep.Failed(), printed(rep))
}
