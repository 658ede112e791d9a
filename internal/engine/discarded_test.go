package engine_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/store"
)

// A delivery job River discarded after its last attempt used to leave no
// record error: the event was lost to everyone but the job table.
func TestDiscardedDeliveryJobBecomesARecordError(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, pg bool) {
		tb := setupOn(t, pg, setupOpts{})
		args := tb.event(t, escalated("T-1", 1, "Checkout down", "high"))
		raw, err := json.Marshal(args)
		require.NoError(t, err)

		tb.engine.JobDiscarded(t.Context(), queue.Job{ID: 7, Kind: engine.KindDeliver, Attempt: 25, Args: raw}, "boom: unexpected EOF")

		errs := tb.recordErrors(t)
		require.Len(t, errs, 1)
		re := errs[0]
		require.Equal(t, engine.ClassJobDiscarded, re.Class)
		require.Equal(t, "T-1", re.SourceID)
		require.Equal(t, tb.installation.ID, re.InstallationID)
		require.Contains(t, re.Message, "after 25 attempts: boom: unexpected EOF")
		require.Equal(t, store.RecordErrorOpen, re.Status)
		require.Equal(t, engine.ClassJobDiscarded, tb.waitAlert(t).Class)
		require.Equal(t, store.EventDone, tb.eventState(t, args.EventID))
		require.EqualValues(t, 1, tb.events(t, "failed"))

		// The record error retries like any other: the delivery runs again.
		var again engine.DeliverArgs
		require.NoError(t, json.Unmarshal(re.JobArgs, &again))
		again.RecordErrorID = re.ID
		require.NoError(t, tb.deliver(t, again))
		require.Equal(t, 1, tb.incidents.Count())
	})
}
