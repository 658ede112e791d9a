package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, &Env{Stdout: &out, Stderr: &errb, Getenv: func(string) (string, bool) { return "", false }})
	return code, out.String(), errb.String()
}

const packDir = "../../packs/support-escalation"

func TestContractLintShippedPack(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "contract", "lint", packDir)
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `^ok: \d+ files checked, no problems\n$`, out)
}

// copyPack copies the shipped pack into a temporary directory so a test can
// break one file of it.
func copyPack(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	for _, sub := range []string{"providers", "contracts"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dst, sub), 0o755))
		files, err := filepath.Glob(filepath.Join(packDir, sub, "*.yaml"))
		require.NoError(t, err)
		for _, f := range files {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dst, sub, filepath.Base(f)), data, 0o644))
		}
	}
	return dst
}

func TestContractLintReportsEveryProblemWithPosition(t *testing.T) {
	t.Parallel()
	dir := copyPack(t)
	path := filepath.Join(dir, "contracts", "escalation.yaml")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	text := string(data)
	// An unknown key, a wrong field reference and a mistyped CEL expression.
	text = strings.Replace(text, "latency:", "latncy:", 1)
	text = strings.Replace(text, "from: ticket.title", "from: ticket.titel", 1)
	text = strings.Replace(text, `expr: '"Escalated: " + ticket.title`, `expr: '1 + ticket.title`, 1)
	require.NotEqual(t, string(data), text)
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))

	code, out, _ := run(t, "contract", "lint", path)
	require.Equal(t, 1, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	pos := regexp.MustCompile(`^` + regexp.QuoteMeta(path) + `:\d+:\d+: `)
	for _, l := range lines {
		require.Regexp(t, pos, l)
	}
	require.Contains(t, lines[0], "did you mean `latency`?")
	require.Contains(t, out, "ticket has no field titel; did you mean title?")
	require.Contains(t, out, "no matching overload for '_+_'")
}

func TestContractExplainShippedContract(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "contract", "explain", filepath.Join(packDir, "contracts", "escalation.yaml"))
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{
		"When a ticket in Helpdesk changes to Escalated, Accord creates an incident in Incidents with: title ← ticket title; severity ← ticket priority (low→3, med→2, high→1; 2 if missing)",
		"Incident status is owned by Incidents and never written.",
		"Failed writes are retried for 24 hours, then an admin is alerted.",
		"Not included: attachments; history older than 30 days.",
	} {
		require.Contains(t, out, want)
	}
}

func TestHelpShowsExample(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, "help", "serve")
	require.Equal(t, 0, code)
	require.Contains(t, out, "Example:\n  accord serve")
	require.Contains(t, out, "-db")

	code, _, errOut := run(t, "serve", "--help")
	require.Equal(t, 0, code)
	require.Contains(t, errOut, "Example:")

	code, _, errOut = run(t, "nope")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `unknown command "nope"`)
}

func TestMigrateTouchesOnlyTheDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "accord.db")
	for range 2 { // the second run finds nothing to do
		code, out, errOut := run(t, "migrate", "--db", "sqlite:"+db, "--packs", filepath.Join(dir, "no-such-packs"), "--log-level", "error")
		require.Equal(t, 0, code, errOut)
		require.Equal(t, "migrations applied to sqlite:"+db+"\n", out)
	}
	_, err := os.Stat(db + ".key")
	require.ErrorIs(t, err, os.ErrNotExist, "migrate neither needs nor creates a master key")
}
