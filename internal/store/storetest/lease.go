package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// testLeaseRace is several workers going for the same partner object at
// once: exactly one may write to it.
func testLeaseRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	seed(t, s, "t1")
	const n = 20
	won := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			won[i], errs[i] = s.AcquireLease(ctx, "t1", "incident/INC-1", fmtID("worker_", i), time.Minute)
		}()
	}
	close(start)
	wg.Wait()
	winners := 0
	winner := ""
	for i := range n {
		require.NoError(t, errs[i])
		if won[i] {
			winners++
			winner = fmtID("worker_", i)
		}
	}
	require.Equal(t, 1, winners, "exactly one holder")

	// The winner holds it: every other worker still loses, the winner renews.
	for i := range n {
		holder := fmtID("worker_", i)
		ok, err := s.AcquireLease(ctx, "t1", "incident/INC-1", holder, time.Minute)
		require.NoError(t, err)
		require.Equal(t, holder == winner, ok, holder)
	}
	// Another object is another lease.
	ok, err := s.AcquireLease(ctx, "t1", "incident/INC-2", "worker_other", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
}

func testLeaseRenewalAndExpiry(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	seed(t, s, "t1")
	const key = "incident/INC-1"
	acquire := func(holder string, ttl time.Duration) bool {
		t.Helper()
		ok, err := s.AcquireLease(ctx, "t1", key, holder, ttl)
		require.NoError(t, err)
		return ok
	}

	require.True(t, acquire("a", 10*time.Second))
	clock.Advance(8 * time.Second)
	require.False(t, acquire("b", 10*time.Second), "a's lease runs 2s more")
	require.True(t, acquire("a", 10*time.Second), "renewal by the holder")

	// The renewal moved the expiry to 8s+10s: at 16s (past the first
	// expiry at 10s) a still holds it.
	clock.Advance(8 * time.Second)
	require.False(t, acquire("b", 10*time.Second), "renewed lease not expired")

	// Past the renewed expiry (18s) another holder takes it over, and a has
	// lost it.
	clock.Advance(3 * time.Second)
	require.True(t, acquire("b", 10*time.Second), "expired lease taken over")
	require.False(t, acquire("a", 10*time.Second), "the old holder lost it")

	// a, believing it still holds the lease, releases it: nothing happens.
	require.NoError(t, s.ReleaseLease(ctx, "t1", key, "a"))
	require.False(t, acquire("c", time.Second), "b's lease survives a's late release")

	// The ttl counts from the store's clock.
	clock.Advance(10*time.Second + time.Microsecond)
	require.True(t, acquire("c", time.Second))

	for _, ttl := range []time.Duration{0, -time.Second} {
		_, err := s.AcquireLease(ctx, "t1", key, "c", ttl)
		require.Error(t, err, "ttl %s", ttl)
	}
}

func testLeaseRelease(t *testing.T, s store.Store) {
	ctx := context.Background()
	seed(t, s, "t1")
	const key = "incident/INC-1"

	require.NoError(t, s.ReleaseLease(ctx, "t1", key, "a"), "releasing a lease nobody holds")

	ok, err := s.AcquireLease(ctx, "t1", key, "a", time.Hour)
	require.NoError(t, err)
	require.True(t, ok)

	require.NoError(t, s.ReleaseLease(ctx, "t1", key, "b"), "a non-holder's release is a no-op")
	ok, err = s.AcquireLease(ctx, "t1", key, "b", time.Hour)
	require.NoError(t, err)
	require.False(t, ok, "a still holds it")

	require.NoError(t, s.ReleaseLease(ctx, "t1", key, "a"))
	ok, err = s.AcquireLease(ctx, "t1", key, "b", time.Hour)
	require.NoError(t, err)
	require.True(t, ok, "released: free for another")
	require.NoError(t, s.ReleaseLease(ctx, "t1", key, "a"), "released twice")

	_, err = s.AcquireLease(ctx, "t_missing", key, "a", time.Hour)
	require.ErrorIs(t, err, store.ErrNotFound, "a lease needs its tenant")
}

func testLeaseTenantIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	seed(t, s, "ta")
	seed(t, s, "tb")
	const key = "incident/INC-1"
	for _, tenant := range []string{"ta", "tb"} {
		ok, err := s.AcquireLease(ctx, tenant, key, "holder_"+tenant, time.Hour)
		require.NoError(t, err)
		require.True(t, ok, "same key in another tenant is another lease")
	}
	// One tenant's release does not free the other's.
	require.NoError(t, s.ReleaseLease(ctx, "tb", key, "holder_ta"))
	require.NoError(t, s.ReleaseLease(ctx, "tb", key, "holder_tb"))
	ok, err := s.AcquireLease(ctx, "ta", key, "someone", time.Hour)
	require.NoError(t, err)
	require.False(t, ok, "ta's lease still held")
	ok, err = s.AcquireLease(ctx, "tb", key, "someone", time.Hour)
	require.NoError(t, err)
	require.True(t, ok, "tb's lease released")
}

// testLeaseInTx: a lease taken in a transaction that rolls back was never
// taken.
func testLeaseInTx(t *testing.T, s store.Store) {
	ctx := context.Background()
	seed(t, s, "t1")
	errBoom := errors.New("boom")
	err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		ok, err := tx.AcquireLease(ctx, "t1", "k", "a", time.Hour)
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = tx.AcquireLease(ctx, "t1", "k", "b", time.Hour)
		require.NoError(t, err)
		require.False(t, ok, "the transaction sees its own lease")
		return errBoom
	})
	require.ErrorIs(t, err, errBoom)
	ok, err := s.AcquireLease(ctx, "t1", "k", "b", time.Hour)
	require.NoError(t, err)
	require.True(t, ok, "the rolled-back lease is free")

	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.ReleaseLease(ctx, "t1", "k", "b")
	})
	require.NoError(t, err)
	ok, err = s.AcquireLease(ctx, "t1", "k", "a", time.Hour)
	require.NoError(t, err)
	require.True(t, ok, "released in a committed transaction")
}
