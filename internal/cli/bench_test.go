package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBenchPrintsTheTable runs a tiny load: every event must reach the
// incidents simulator, and the table must say so. No timing is asserted.
func TestBenchPrintsTheTable(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts Accord and sends load for a second")
	}
	code, out, errOut := run(t, "bench", "--rate", "100", "--duration", "500ms", "--tenants", "2", "--clients", "4")
	require.Equal(t, 0, code, errOut)
	var header, sqlite []string
	noops := 0
	for _, line := range strings.Split(out, "\n") {
		// A markdown row: | run | events | …
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		switch {
		case cells[0] == "run":
			header = cells
		case strings.HasPrefix(cells[0], "noop"):
			noops++
		case cells[0] == "sqlite":
			sqlite = cells
		}
	}
	require.NotNil(t, header, out)
	require.Equal(t, 2, noops, "the no-op ceiling is measured before and after, in the same run: %s", out)
	require.NotNil(t, sqlite, out)
	// run events rate/s errors missing …
	require.Equal(t, "50", sqlite[1], "events: 100/s for 0.5 s")
	require.Equal(t, "0", sqlite[3], "errors")
	require.Equal(t, "0", sqlite[4], "missing: every accepted event's delivery became final")
	require.Contains(t, out, "no-op ceiling spread")
}

func TestBenchWritesJSON(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts Accord and sends load for a second")
	}
	file := filepath.Join(t.TempDir(), "bench.json")
	code, _, errOut := run(t, "bench", "--rate", "50", "--duration", "200ms", "--tenants", "1", "--clients", "2", "--json", file)
	require.Equal(t, 0, code, errOut)
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	var r struct {
		Machine struct{ CPUs int }
		Results []struct {
			Name     string
			Accepted int
			EndToEnd struct{ N int }
		}
	}
	require.NoError(t, json.Unmarshal(raw, &r))
	require.Positive(t, r.Machine.CPUs)
	require.Len(t, r.Results, 3)
	require.Equal(t, "sqlite", r.Results[1].Name)
	require.Equal(t, r.Results[1].Accepted, r.Results[1].EndToEnd.N, "every accepted event timed to its final delivery")
}
