package engine_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/store"
)

// A delivery held back by a paused connection waits out its pause interval;
// reconnecting runs it at once instead.
func TestResumeConnectionRunsPausedDeliveriesNow(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	tb.useQueue(t)
	conn := tb.connection(t, tb.incidentsConn)
	conn.State = store.ConnectionNeedsReconnect
	require.NoError(t, tb.store.UpdateConnection(t.Context(), conn))

	d := tb.dispatcher(t, nil)
	ev := tb.pendingEvent(t, escalated("T-1", 1, "Checkout down", "high"))
	d.Dispatch([]store.Event{ev})
	tb.waitEventState(t, ev.ID, store.EventQueued)
	jobs := tb.deliverJobs(t)
	require.Len(t, jobs, 1)
	require.Equal(t, queue.JobStateScheduled, jobs[0].State)
	require.WithinDuration(t, tb.clock.Now().Add(pauseInterval), jobs[0].ScheduledAt, time.Millisecond)

	// Still paused: the job keeps waiting.
	require.NoError(t, tb.engine.ResumeConnection(t.Context(), conn))
	require.Equal(t, queue.JobStateScheduled, tb.deliverJobs(t)[0].State)

	conn.State = store.ConnectionActive
	require.NoError(t, tb.store.UpdateConnection(t.Context(), conn))
	require.NoError(t, tb.engine.ResumeConnection(t.Context(), conn))
	job := tb.deliverJobs(t)[0]
	require.Equal(t, jobs[0].ID, job.ID)
	require.Equal(t, queue.JobStateAvailable, job.State, "runs now, not after the pause interval")
	require.Zero(t, job.Attempt, "waking a job uses no attempt")
}
