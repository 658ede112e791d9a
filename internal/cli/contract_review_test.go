package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestContractReviewWritesMarkdownAndJSON: the shipped pack's review, with
// what it still lacks on stderr.
func TestContractReviewWritesMarkdownAndJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, out, errOut := run(t, "contract", "review", "--out", dir, "--public-url", "https://accord.example.com", packDir)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "support-escalation.review.md")
	require.Contains(t, errOut, "missing: privacy_url")
	md, err := os.ReadFile(filepath.Join(dir, "support-escalation.review.md"))
	require.NoError(t, err)
	require.Contains(t, string(md), "| helpdesk | `tickets.read` | Read tickets | trigger ticket_escalated receives")
	raw, err := os.ReadFile(filepath.Join(dir, "support-escalation.review.json"))
	require.NoError(t, err)
	var doc struct {
		Pack      string `json:"pack"`
		Contracts []struct {
			Permissions []struct{ Scope string } `json:"permissions"`
		} `json:"contracts"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.Equal(t, "support-escalation", doc.Pack)
	require.Len(t, doc.Contracts[0].Permissions, 3)

	code, _, errOut = run(t, "contract", "review")
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, "name one pack directory")
}
