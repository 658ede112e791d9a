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

// testProcessLeases: a process's heartbeat lease, listed while it lives,
// released at shutdown with the process's other leases.
func testProcessLeases(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	seed(t, s, "t1")
	acquire := func(key, holder string, ttl time.Duration) bool {
		t.Helper()
		ok, err := s.AcquireProcessLease(ctx, key, holder, ttl)
		require.NoError(t, err)
		return ok
	}
	keys := func(prefix string) []string {
		t.Helper()
		ls, err := s.ListProcessLeases(ctx, prefix)
		require.NoError(t, err)
		var out []string
		for _, l := range ls {
			out = append(out, l.Key+"="+l.Holder)
		}
		return out
	}
	require.True(t, acquire("queue-process:a", "a", 15*time.Second))
	require.True(t, acquire("queue-process:b", "b", 5*time.Second))
	require.True(t, acquire("other:a_%", "a", time.Hour))
	require.False(t, acquire("queue-process:a", "b", time.Second), "held by a")
	require.Equal(t, []string{"queue-process:a=a", "queue-process:b=b"}, keys("queue-process:"))
	require.Equal(t, []string{"other:a_%=a"}, keys("other:a_%"), "the prefix is literal")
	require.Empty(t, keys("other:ab"))

	clock.Advance(10 * time.Second)
	require.Equal(t, []string{"queue-process:a=a"}, keys("queue-process:"), "b stopped heartbeating")
	require.True(t, acquire("queue-process:b", "c", time.Second), "expired: taken over")

	ok, err := s.AcquireLease(ctx, "t1", "k", "a", time.Hour)
	require.NoError(t, err)
	require.True(t, ok)
	n, err := s.ReleaseLeasesHeldBy(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, 3, n, "tenant and process leases")
	require.Equal(t, []string{"queue-process:b=c"}, keys(""))

	require.NoError(t, s.ReleaseProcessLease(ctx, "queue-process:b", "x"), "not x's: a no-op")
	require.Equal(t, []string{"queue-process:b=c"}, keys(""))
	require.NoError(t, s.ReleaseProcessLease(ctx, "queue-process:b", "c"))
	require.Empty(t, keys(""))

	_, err = s.AcquireProcessLease(ctx, "k", "a", 0)
	require.Error(t, err)
}
