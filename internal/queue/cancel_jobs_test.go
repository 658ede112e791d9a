package queue

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// TestCancelJobsCancelsOnlyMatchingUnfinishedJobs: an uninstall cancels
// the waiting jobs of one tenant's group and nothing else.
func TestCancelJobsCancelsOnlyMatchingUnfinishedJobs(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx := testCtx(t)
		reg := NewRegistry()
		require.NoError(t, AddWorker(reg, river.WorkFunc(func(ctx context.Context, job *river.Job[tenantArgs]) error { return nil })))
		q := newTestQueue(t, st, reg, testConfig())
		later := &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)}
		a1, err := q.Insert(ctx, tenantArgs{TenantID: "t1", Group: "a"}, later)
		require.NoError(t, err)
		a2, err := q.Insert(ctx, tenantArgs{TenantID: "t1", Group: "a"}, nil)
		require.NoError(t, err)
		b, err := q.Insert(ctx, tenantArgs{TenantID: "t1", Group: "b"}, later)
		require.NoError(t, err)
		other, err := q.Insert(ctx, tenantArgs{TenantID: "t2", Group: "a"}, later)
		require.NoError(t, err)

		n, err := q.CancelJobs(ctx, tenantArgs{}.Kind(), map[string]string{"tenant_id": "t1", "group": "a"})
		require.NoError(t, err)
		require.Equal(t, 2, n)
		for _, id := range []int64{a1, a2} {
			_, err := q.JobByID(ctx, id)
			require.ErrorIs(t, err, ErrJobNotFound, "a waiting job is deleted: no row keeps its args")
		}
		for _, id := range []int64{b, other} {
			j, err := q.JobByID(ctx, id)
			require.NoError(t, err)
			require.Equal(t, JobStateScheduled, j.State, "job %d", id)
		}
		_, err = q.CancelJobs(ctx, tenantArgs{}.Kind(), map[string]string{"bad field": "x"})
		require.ErrorIs(t, err, ErrBadArgField)
	})
}
