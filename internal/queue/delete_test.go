package queue

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

func TestDeleteWaitingTx(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx := testCtx(t)
		reg := NewRegistry()
		require.NoError(t, AddWorker(reg, river.WorkFunc(func(ctx context.Context, job *river.Job[echoArgs]) error { return nil })))
		q := newTestQueue(t, st, reg, testConfig())

		later := time.Now().Add(time.Hour)
		ids, err := q.InsertMany(ctx, []river.InsertManyParams{
			{Args: echoArgs{Msg: "scheduled"}, InsertOpts: &river.InsertOpts{ScheduledAt: later}},
			{Args: echoArgs{Msg: "available"}},
			{Args: echoArgs{Msg: "kept"}, InsertOpts: &river.InsertOpts{ScheduledAt: later}},
		})
		require.NoError(t, err)

		var deleted int
		errRollback := context.Canceled
		err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			n, err := q.DeleteWaitingTx(ctx, tx, ids[:2])
			require.NoError(t, err)
			require.Equal(t, 2, n)
			return errRollback
		})
		require.ErrorIs(t, err, errRollback)
		for _, id := range ids {
			_, err := q.JobByID(ctx, id)
			require.NoError(t, err, "a rolled back delete deletes nothing")
		}

		require.NoError(t, st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			deleted, err = q.DeleteWaitingTx(ctx, tx, ids[:2])
			return err
		}))
		require.Equal(t, 2, deleted)
		for _, id := range ids[:2] {
			_, err := q.JobByID(ctx, id)
			require.ErrorIs(t, err, ErrJobNotFound)
		}
		job, err := q.JobByID(ctx, ids[2])
		require.NoError(t, err, "jobs not named stay")
		require.Equal(t, JobStateScheduled, job.State)
	})
}
