package review_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/review"
	"github.com/accordhq/accord/internal/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func loadPack(t *testing.T) (*spec.Pack, *spec.Bundle) {
	t.Helper()
	b, diags := spec.LoadDir(filepath.Join("..", "..", "packs", "support-escalation"))
	require.Empty(t, diags)
	return b.Packs["support-escalation"], b
}

// TestPackReviewGolden: the review of the shipped pack, markdown and
// JSON, against testdata (go test ./internal/review -update rewrites).
func TestPackReviewGolden(t *testing.T) {
	t.Parallel()
	p, b := loadPack(t)
	doc := review.Pack(p, b, review.DocumentOptions{PublicURL: "https://accord.example.com"})
	raw, err := json.MarshalIndent(doc, "", "  ")
	require.NoError(t, err)
	for name, got := range map[string][]byte{"support-escalation.md": []byte(doc.Markdown()), "support-escalation.json": append(raw, '\n')} {
		path := filepath.Join("testdata", name)
		if *update {
			require.NoError(t, os.WriteFile(path, got, 0o644))
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "%s is stale; run go test ./internal/review -update", name)
	}
}

// TestDescribeSaysWhyEachScope: each scope names the trigger or action
// that needs it; the fields read come from conditions, mappings and
// expressions (never from string literals); retention follows the
// contract.
func TestDescribeSaysWhyEachScope(t *testing.T) {
	t.Parallel()
	_, b := loadPack(t)
	c := *b.Contracts["escalation"]
	d := review.Describe(&c, b, review.Options{})
	why := map[string][]string{}
	for _, p := range d.Permissions {
		why[p.Scope] = p.Why
	}
	require.Contains(t, why, "tickets.read")
	require.Contains(t, why["tickets.read"][0], "trigger ticket_escalated receives ticket.created, ticket.updated")
	require.Contains(t, why["incidents.write"][0], "action create_incident creates an incident (title, severity, link, description, external_id)")
	require.NotContains(t, why, "tickets.write", "a scope nothing uses is not asked for")

	var reads []string
	for _, f := range d.Reads {
		reads = append(reads, f.Object+"."+f.Field)
	}
	require.ElementsMatch(t, []string{"ticket.status", "ticket.title", "ticket.priority", "ticket.url", "ticket.description", "ticket.id",
		"ticket.title", "ticket.url"}, reads)
	require.Equal(t, "30 days", d.UninstallRetention)

	zero := spec.Duration(0)
	c.Boundaries.Retention = &zero
	require.Equal(t, "nothing (deleted at once)", review.Describe(&c, b, review.Options{}).UninstallRetention)
	week := spec.Duration(7 * 24 * time.Hour)
	c.Boundaries.Retention = &week
	require.Equal(t, "7 days", review.Describe(&c, b, review.Options{}).UninstallRetention)
}
