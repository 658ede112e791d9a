package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// testLeaseRenew: only the live holder renews; once its lease expired and
// another took it, the old holder's renew fails rather than taking it back.
func testLeaseRenew(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	seed(t, s, "t1")
	const key = "incident/INC-1"
	renew := func(holder string) bool {
		t.Helper()
		ok, err := s.RenewLease(ctx, "t1", key, holder, 10*time.Second)
		require.NoError(t, err)
		return ok
	}
	acquire := func(holder string) bool {
		t.Helper()
		ok, err := s.AcquireLease(ctx, "t1", key, holder, 10*time.Second)
		require.NoError(t, err)
		return ok
	}

	require.False(t, renew("a"), "nothing to renew")
	require.True(t, acquire("a"))
	clock.Advance(8 * time.Second)
	require.True(t, renew("a"))
	require.False(t, renew("b"), "not b's")
	clock.Advance(8 * time.Second)
	require.False(t, acquire("b"), "renewed: still a's at 16s")

	clock.Advance(3 * time.Second) // past 18s
	require.False(t, renew("a"), "expired: a renew does not revive it")
	require.True(t, acquire("b"), "an expired lease is taken by another")
	require.False(t, renew("a"), "the old holder's renew fails")
	require.True(t, renew("b"))

	_, err := s.RenewLease(ctx, "t1", key, "b", 0)
	require.Error(t, err)
}

func testReleaseLeasesHeldBy(t *testing.T, s store.Store) {
	ctx := context.Background()
	seed(t, s, "ta")
	seed(t, s, "tb")
	for _, l := range []struct{ tenant, key, holder string }{
		{"ta", "k1", "proc_1"}, {"ta", "k2", "proc_1"}, {"tb", "k1", "proc_1"}, {"tb", "k2", "proc_2"},
	} {
		ok, err := s.AcquireLease(ctx, l.tenant, l.key, l.holder, time.Hour)
		require.NoError(t, err)
		require.True(t, ok)
	}
	n, err := s.ReleaseLeasesHeldBy(ctx, "proc_1")
	require.NoError(t, err)
	require.Equal(t, 3, n)
	n, err = s.ReleaseLeasesHeldBy(ctx, "proc_1")
	require.NoError(t, err)
	require.Zero(t, n)

	ok, err := s.AcquireLease(ctx, "ta", "k1", "proc_3", time.Hour)
	require.NoError(t, err)
	require.True(t, ok, "released")
	ok, err = s.AcquireLease(ctx, "tb", "k2", "proc_3", time.Hour)
	require.NoError(t, err)
	require.False(t, ok, "proc_2's lease untouched")
}

func testDeleteExpired(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	seed(t, s, "t1")
	ok, err := s.AcquireLease(ctx, "t1", "short", "a", time.Second)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = s.AcquireLease(ctx, "t1", "long", "a", time.Hour)
	require.NoError(t, err)
	require.True(t, ok)
	for _, st := range []store.OAuthState{
		{State: "s_old", TenantID: "t1", Provider: "p", ExpiresAt: at(time.Minute)},
		{State: "s_new", TenantID: "t1", Provider: "p", ExpiresAt: at(time.Hour)},
	} {
		require.NoError(t, s.CreateOAuthState(ctx, st))
	}
	clock.Advance(2 * time.Minute)

	n, err := s.DeleteExpiredLeases(ctx, clock.Now())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	ok, err = s.AcquireLease(ctx, "t1", "long", "b", time.Hour)
	require.NoError(t, err)
	require.False(t, ok, "the live lease survives")

	n, err = s.DeleteExpiredOAuthStates(ctx, clock.Now())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = s.ConsumeOAuthState(ctx, "s_old")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.ConsumeOAuthState(ctx, "s_new")
	require.NoError(t, err)
}
