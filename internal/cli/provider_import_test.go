package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProviderImport(t *testing.T) {
	t.Parallel()
	fixture := "../catalogcheck/testdata/zendesk-tickets.yaml"
	out := filepath.Join(t.TempDir(), "zendesk.yaml")
	code, stdout, errOut := run(t, "provider", "import", "--openapi", fixture, "--object", "TicketObject", "--name", "zendesk", "-o", out)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "wrote "+out+"; check it with: accord contract check --openapi "+fixture+" "+out+"\n", stdout)

	// What it wrote lints and matches the document it came from.
	code, stdout, errOut = run(t, "contract", "lint", out)
	require.Equal(t, 0, code, stdout+errOut)
	code, stdout, errOut = run(t, "contract", "check", "--openapi", fixture, out)
	require.Equal(t, 0, code, stdout+errOut)

	// An existing file is not overwritten.
	before, err := os.ReadFile(out)
	require.NoError(t, err)
	code, _, errOut = run(t, "provider", "import", "--openapi", fixture, "--object", "TicketObject", "-o", out)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "file exists")
	after, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, before, after)

	code, _, errOut = run(t, "provider", "import", "--openapi", fixture)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "name the document and the object")
}
