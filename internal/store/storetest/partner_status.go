package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// testPartnerStatus: each transition of a partner's degraded flag is
// recorded once, however many processes record it at once; a partner
// never degraded has nothing to recover from.
func testPartnerStatus(t *testing.T, s store.Store) {
	ctx := context.Background()
	changed, err := s.SetPartnerStatus(ctx, store.PartnerStatus{Provider: "incidents", ChangedAt: at(0)})
	require.NoError(t, err)
	require.False(t, changed, "a partner never recorded degraded does not recover")
	list, err := s.ListPartnerStatus(ctx)
	require.NoError(t, err)
	require.Empty(t, list)

	race := func(st store.PartnerStatus) int64 {
		var wins atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				ok, err := s.SetPartnerStatus(ctx, st)
				require.NoError(t, err)
				if ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		return wins.Load()
	}
	require.EqualValues(t, 1, race(store.PartnerStatus{Provider: "incidents", Degraded: true, Reason: "errors", ChangedAt: at(1)}),
		"one of the racing recorders records the transition")
	list, err = s.ListPartnerStatus(ctx)
	require.NoError(t, err)
	require.Equal(t, []store.PartnerStatus{{Provider: "incidents", Degraded: true, Reason: "errors", ChangedAt: norm(at(1))}}, list)

	changed, err = s.SetPartnerStatus(ctx, store.PartnerStatus{Provider: "incidents", Degraded: true, Reason: "latency", ChangedAt: at(2)})
	require.NoError(t, err)
	require.False(t, changed, "still degraded is no transition")

	require.EqualValues(t, 1, race(store.PartnerStatus{Provider: "incidents", ChangedAt: at(3)}), "recovered once")
	list, err = s.ListPartnerStatus(ctx)
	require.NoError(t, err)
	require.Equal(t, []store.PartnerStatus{{Provider: "incidents", ChangedAt: norm(at(3))}}, list)

	// In a transaction that rolls back, nothing is recorded.
	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		ok, err := tx.SetPartnerStatus(ctx, store.PartnerStatus{Provider: "incidents", Degraded: true, Reason: "errors", ChangedAt: at(4)})
		require.NoError(t, err)
		require.True(t, ok)
		return context.Canceled
	})
	require.ErrorIs(t, err, context.Canceled)
	list, err = s.ListPartnerStatus(ctx)
	require.NoError(t, err)
	require.False(t, list[0].Degraded)
}
