package engine_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// The clock never moves in these tests: everything happens within the
// cache's TTL, where a stale entry would be served.

func TestLookupCacheReactivatedConnectionDeliversAtOnce(t *testing.T) {
	t.Parallel()
	tb := setup(t)

	conn := tb.connection(t, tb.incidentsConn)
	conn.State, conn.StateReason = store.ConnectionNeedsReconnect, "reconnect the account"
	require.NoError(t, tb.store.UpdateConnection(t.Context(), conn))

	args := tb.event(t, escalated("T-1", 1, "Checkout down", "high"))
	require.Equal(t, pauseInterval, requireSnooze(t, tb.deliver(t, args)), "paused: the job waits")
	require.Zero(t, tb.incidents.Count())

	// The account is reconnected a moment later.
	conn.State, conn.StateReason = store.ConnectionActive, ""
	require.NoError(t, tb.store.UpdateConnection(t.Context(), conn))

	require.NoError(t, tb.deliver(t, args), "not held back by the paused connection the cache saw")
	tb.onlyIncident(t)
	require.Len(t, tb.chat.Messages("escalations"), 1)
}

func TestLookupCacheSeesInstallationCreatedAfterFirstEvent(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := t.Context()

	// A second helpdesk account whose installation is not set up yet.
	const helpdesk2 = "conn_helpdesk_2"
	require.NoError(t, tb.store.CreateConnection(ctx, store.Connection{
		TenantID: tb.tenantID, ID: helpdesk2, Provider: "helpdesk", State: store.ConnectionActive, Secret: []byte("sealed"),
	}))
	require.NoError(t, tb.deliver(t, tb.eventOn(t, helpdesk2, escalated("T-1", 1, "Checkout down", "high"))))
	require.Zero(t, tb.incidents.Count(), "no installation: nothing to do")

	inst := tb.installation
	inst.ID = "inst_escalation_2"
	inst.Connections = map[string]string{"helpdesk": helpdesk2, "incidents": tb.incidentsConn, "chat": tb.chatConn}
	require.NoError(t, tb.store.CreateInstallation(ctx, inst))

	require.NoError(t, tb.deliver(t, tb.eventOn(t, helpdesk2, escalated("T-2", 1, "Search down", "high"))))
	inc := tb.onlyIncident(t)
	require.Equal(t, "T-2", inc.ExternalID)
}
