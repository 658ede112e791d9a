package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/spec"
)

// addVersion loads the pack's escalation contract as version with its chat
// text prefixed by prefix.
func addVersion(version, prefix string) func(t *testing.T, c *engine.Catalog) {
	return func(t *testing.T, c *engine.Catalog) {
		dir := t.TempDir()
		require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "packs", "support-escalation"))))
		file := filepath.Join(dir, "contracts", "escalation.yaml")
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		y := strings.Replace(string(raw), "version: 1.0.0", "version: "+version, 1)
		y = strings.Replace(y, `expr: '"Escalated: "`, `expr: '"`+prefix+`"`, 1)
		require.NotEqual(t, string(raw), y)
		require.NoError(t, os.WriteFile(file, []byte(y), 0o600))
		b, diags := spec.LoadDir(dir)
		require.NoError(t, diags.Err())
		require.NoError(t, c.Add(b.Contracts["escalation"]))
	}
}

// An installation recorded contract_version but ran whatever version the
// catalog held: upgrading a pack silently changed every installation.
func TestInstallationRunsItsPinnedContractVersion(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, pg bool) {
		tb := setupOn(t, pg, setupOpts{catalog: addVersion("1.10.0", "v1.10 ")})

		require.Equal(t, "applied", tb.deliverOutcome(t, tb.event(t, escalated("T-1", 1, "Checkout down", "high"))))
		msgs := tb.chat.Messages("escalations")
		require.Len(t, msgs, 1)
		require.True(t, strings.HasPrefix(msgs[0].Text, "Escalated: "), "still on 1.0.0 although 1.10.0 is loaded: %q", msgs[0].Text)

		require.NoError(t, tb.store.SetInstallationContractVersion(t.Context(), tb.tenantID, tb.installation.ID, "1.10.0"))
		tb.clock.Advance(3 * time.Second) // past the installation cache
		require.Equal(t, "applied", tb.deliverOutcome(t, tb.event(t, escalated("T-2", 1, "Search down", "high"))))
		msgs = tb.chat.Messages("escalations")
		require.Len(t, msgs, 2)
		require.True(t, strings.HasPrefix(msgs[1].Text, "v1.10 "), "upgraded: %q", msgs[1].Text)
	})
}

// A version that is not loaded (a deploy dropped it) holds the events
// instead of dropping them or running another version.
func TestUnloadedContractVersionHoldsEvents(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, pg bool) {
		tb := setupOn(t, pg, setupOpts{})
		require.NoError(t, tb.store.SetInstallationContractVersion(t.Context(), tb.tenantID, tb.installation.ID, "0.9.0"))
		requireSnooze(t, tb.deliver(t, tb.event(t, escalated("T-1", 1, "Checkout down", "high"))))
		require.Zero(t, tb.incidents.Count())
		require.Empty(t, tb.chat.Messages("escalations"))
	})
}

func TestCatalogNewestVersionByNumber(t *testing.T) {
	t.Parallel()
	require.Equal(t, 1, engine.CompareVersions("1.10.0", "1.9.0"))
	require.Equal(t, -1, engine.CompareVersions("1.0", "1.0.1"))
	require.Equal(t, 0, engine.CompareVersions("2.0.0", "2.0.0"))
	c := &engine.Catalog{}
	addVersion("1.10.0", "new ")(t, c)
	addVersion("1.9.0", "old ")(t, c)
	require.Equal(t, "1.10.0", c.Contracts["escalation"].Version, "newest by number, not by load order or text")
	got, err := c.Contract("escalation", "1.9.0")
	require.NoError(t, err)
	require.Equal(t, "1.9.0", got.Version)
	_, err = c.Contract("escalation", "3.0.0")
	require.ErrorIs(t, err, engine.ErrContractVersionNotLoaded)
}
