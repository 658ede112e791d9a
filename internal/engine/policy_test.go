package engine_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/engine"
)

// A write refused by the outbound address policy (a loopback partner
// without allow_loopback_partners) retried silently for 24 hours at INFO.
// It is a record error naming the setting, at once.
func TestOutboundPolicyRefusalIsARecordError(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, pg bool) {
		tb := setupOn(t, pg, setupOpts{config: func(c *engine.Config) { c.Connector.AllowLoopback = false }})
		require.NoError(t, tb.deliver(t, tb.event(t, escalated("T-1", 1, "Checkout down", "high"))), "final: retrying cannot help")

		errs := tb.recordErrors(t)
		require.Len(t, errs, 2, "one per action")
		for _, re := range errs {
			require.Equal(t, engine.ClassPolicy, re.Class)
			require.Contains(t, re.Message, "allow_loopback_partners")
			require.Contains(t, re.Remediation, "Nothing was sent")
		}
		require.Zero(t, tb.incidents.Count())
		require.EqualValues(t, 1, tb.events(t, "failed"))
	})
}

// A partner id of ".." used to be sent as a path segment (PATCH
// /v1/incidents/..), which a normalising server routes elsewhere with the
// tenant's credentials. It is bad data, never sent.
func TestDotDotPartnerIDIsBadData(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, pg bool) {
		tb := setupOn(t, pg, setupOpts{editContract: upsertIncidents("")})
		l := deadLink(tb, "T-1")
		l.TargetID = ".."
		require.NoError(t, tb.store.UpsertLink(t.Context(), l))

		require.NoError(t, tb.deliver(t, tb.event(t, escalated("T-1", 2, "Checkout down", "high"))))
		errs := tb.recordErrors(t)
		require.Len(t, errs, 1)
		require.Equal(t, engine.ClassBadData, errs[0].Class)
		require.Empty(t, tb.front.writes(), "nothing reached the partner")
	})
}
