package cli

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBenchSyncCopiesEveryRecordAndReconciles runs `accord bench sync` on
// a few hundred records: every record must reach the target exactly once,
// and the reconciliation must pair both sides with no difference. No
// timing is asserted; each figure must be printed with its label. The
// reconciliation runs in this process: a test binary cannot `serve`.
func TestBenchSyncCopiesEveryRecordAndReconciles(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts Accord and two simulators")
	}
	code, out, errOut := run(t, "bench", "sync", "--records", "300", "--reconcile-child=false")
	require.Equal(t, 0, code, errOut)
	for _, label := range []string{`ceiling\s+plain HTTP client`, `listed\s+sync run start`, `applied\s+sync run start`, `of ceiling`} {
		require.Regexp(t, label, out)
	}
	require.Contains(t, out, "outcomes map[applied:300]; target holds 300 objects")
	require.Contains(t, out, "300 pairs: 600 objects listed on both sides, 600 paired, 0 diffs, complete true")
	require.Regexp(t, regexp.MustCompile(`peak RSS \d+ MB \(VmHWM`), out)
}

func TestBenchSyncRejectsNoRecords(t *testing.T) {
	t.Parallel()
	code, _, errOut := run(t, "bench", "sync", "--records", "0")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "--records must be positive")
}
