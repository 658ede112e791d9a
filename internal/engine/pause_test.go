package engine_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// A paused installation loses nothing: its events wait and apply on resume.
func TestPausedInstallationKeepsEventsUntilResume(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	require.NoError(t, tb.store.SetInstallationState(t.Context(), tb.tenantID, tb.installation.ID, store.InstallationPaused))

	args := tb.event(t, escalated("T-9", 1, "Paused escalation", "high"))
	requireSnooze(t, tb.deliver(t, args))
	require.Zero(t, tb.incidents.Count(), "nothing is written while paused")

	require.NoError(t, tb.store.SetInstallationState(t.Context(), tb.tenantID, tb.installation.ID, store.InstallationActive))
	tb.clock.Advance(3 * time.Second) // past the engine's lookup cache
	require.NoError(t, tb.deliver(t, args))
	require.Equal(t, 1, tb.incidents.Count(), "the waiting event applies on resume")
}
