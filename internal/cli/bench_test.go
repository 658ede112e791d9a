package cli

import (
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
	var header, noop, sqlite []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 0 && f[0] == "run":
			header = f
		case len(f) > 0 && f[0] == "noop":
			noop = f
		case len(f) > 0 && f[0] == "sqlite":
			sqlite = f
		}
	}
	require.NotNil(t, header, out)
	require.NotNil(t, noop, "the no-op baseline is measured in the same run: %s", out)
	require.NotNil(t, sqlite, out)
	// run events rate/s errors missing …
	require.Equal(t, "50", sqlite[1], "events: 100/s for 0.5 s")
	require.Equal(t, "0", sqlite[3], "errors")
	require.Equal(t, "0", sqlite[4], "missing: every accepted event became an incident")
}
