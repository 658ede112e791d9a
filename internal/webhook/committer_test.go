package webhook_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/webhook"
)

type committerBundle struct {
	*bundle
	c *webhook.TestCommitter
}

func setupCommitter(t *testing.T, open func(testing.TB) store.Store, cfg *webhook.Config) *committerBundle {
	t.Helper()
	b := setup(t, options{open: open})
	c := webhook.NewTestCommitter(b.st, b.q, cfg)
	t.Cleanup(c.Close)
	return &committerBundle{bundle: b, c: c}
}

func testEvent(dedup string) store.Event {
	return store.Event{
		TenantID: tenantID, ID: "evt_" + dedup, ConnectionID: connID, DedupKey: dedup,
		Type: "ticket.updated", ObjectID: "T-1", Payload: []byte(`{}`), ReceivedAt: testNow,
	}
}

func jobFor(e store.Event) river.InsertManyParams {
	return river.InsertManyParams{Args: eventJobArgs{TenantID: e.TenantID, EventID: e.ID}}
}

func TestCommitterTakesEverythingQueuedInOneTransaction(t *testing.T) {
	t.Parallel()
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setupCommitter(t, open, nil)
			ctx := context.Background()
			var waits []func() (bool, error)
			for i := range 10 {
				// Two deliveries of evt_0 in the same batch: one row, one job.
				dedup := fmt.Sprintf("e%d", i%9)
				e := testEvent(dedup)
				e.ID = fmt.Sprintf("evt_%d", i)
				w, err := b.c.Submit(ctx, e, jobFor(e))
				require.NoError(t, err)
				waits = append(waits, w)
			}
			b.c.Start(1)
			inserted := 0
			for _, w := range waits {
				ok, err := w()
				require.NoError(t, err)
				if ok {
					inserted++
				}
			}
			require.Equal(t, 9, inserted)
			require.Equal(t, int64(1), b.c.Txs())
			require.Equal(t, 9, b.countEvents(t))
			require.Equal(t, 9, b.countJobs(t))
		})
	}
}

func TestCommitterPoisonedItemFailsOnlyItself(t *testing.T) {
	t.Parallel()
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setupCommitter(t, open, nil)
			ctx := context.Background()
			var waits []func() (bool, error)
			for i := range 10 {
				e := testEvent(fmt.Sprintf("e%d", i))
				job := jobFor(e)
				if i == 4 {
					job = river.InsertManyParams{Args: unregisteredArgs{}}
				}
				w, err := b.c.Submit(ctx, e, job)
				require.NoError(t, err)
				waits = append(waits, w)
			}
			b.c.Start(1)
			for i, w := range waits {
				ok, err := w()
				if i == 4 {
					require.Error(t, err)
					continue
				}
				require.NoError(t, err, "event %d", i)
				require.True(t, ok, "event %d", i)
			}
			// The batch, then each event alone.
			require.Equal(t, int64(11), b.c.Txs())
			require.Equal(t, 9, b.countEvents(t))
			require.Equal(t, 9, b.countJobs(t))
		})
	}
}

func TestCommitterCommitsAfterTheClientLeft(t *testing.T) {
	t.Parallel()
	b := setupCommitter(t, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	e := testEvent("left")
	wait, err := b.c.Submit(ctx, e, jobFor(e))
	require.NoError(t, err)
	cancel()
	b.c.Start(1)
	ok, err := wait()
	require.NoError(t, err)
	require.True(t, ok)
	_, err = b.st.GetEvent(context.Background(), tenantID, e.ID)
	require.NoError(t, err)
	require.Equal(t, 1, b.countJobs(t))
}

func TestCommitterFullQueueWaitsForTheRequest(t *testing.T) {
	t.Parallel()
	b := setupCommitter(t, nil, &webhook.Config{QueueSize: 1})
	e1, e2 := testEvent("first"), testEvent("second")
	wait, err := b.c.Submit(context.Background(), e1, jobFor(e1))
	require.NoError(t, err)

	gone, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = b.c.Submit(gone, e2, jobFor(e2))
	require.ErrorIs(t, err, context.Canceled)

	b.c.Start(1)
	ok, err := wait()
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, 1, b.countEvents(t), "the refused event was not stored")
}

func TestCommitterCloseDrainsThenRefuses(t *testing.T) {
	t.Parallel()
	b := setupCommitter(t, nil, nil)
	ctx := context.Background()
	var waits []func() (bool, error)
	for i := range 5 {
		e := testEvent(fmt.Sprintf("d%d", i))
		w, err := b.c.Submit(ctx, e, jobFor(e))
		require.NoError(t, err)
		waits = append(waits, w)
	}
	b.c.Start(1)
	b.c.Close()
	for _, w := range waits {
		ok, err := w()
		require.NoError(t, err)
		require.True(t, ok)
	}
	e := testEvent("late")
	_, err := b.c.Submit(ctx, e, jobFor(e))
	require.ErrorIs(t, err, webhook.ErrClosed)
	require.Equal(t, 5, b.countEvents(t))
}
