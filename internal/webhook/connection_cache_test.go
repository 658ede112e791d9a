package webhook

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

func TestConnectionCache(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	lookups := 0
	state := store.ConnectionActive
	lookup := func(_ context.Context, id string) (store.Connection, error) {
		lookups++
		if id == "missing" {
			return store.Connection{}, store.ErrNotFound
		}
		return store.Connection{ID: id, State: state}, nil
	}
	c := newConnectionCache(lookup, func() time.Time { return now }, 5*time.Second, 2)
	ctx := context.Background()

	got, err := c.get(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, store.ConnectionActive, got.State)
	state = store.ConnectionDisconnected
	got, err = c.get(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, store.ConnectionActive, got.State, "served from the cache within the TTL")
	require.Equal(t, 1, lookups)

	now = now.Add(5 * time.Second)
	got, err = c.get(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, store.ConnectionDisconnected, got.State, "a disconnect shows once the TTL is over")
	require.Equal(t, 2, lookups)

	// Unknown ids are not cached: a connection created right after a 404
	// must work at once.
	_, err = c.get(ctx, "missing")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = c.get(ctx, "missing")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.Equal(t, 4, lookups)

	// Bounded: a third id evicts one of the two cached.
	for _, id := range []string{"b", "c"} {
		_, err = c.get(ctx, id)
		require.NoError(t, err)
	}
	require.Len(t, c.entries, 2)
}

func TestConnectionCacheDisabled(t *testing.T) {
	t.Parallel()
	lookups := 0
	c := newConnectionCache(func(context.Context, string) (store.Connection, error) {
		lookups++
		return store.Connection{}, nil
	}, time.Now, -1, 10)
	for range 3 {
		_, err := c.get(context.Background(), "a")
		require.NoError(t, err)
	}
	require.Equal(t, 3, lookups)
}

// A connection forgotten after a change committed in this process (a
// disconnect, a secret rotation) is read afresh by the next request, not
// after the TTL.
func TestConnectionCacheForget(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	state := store.ConnectionActive
	c := newConnectionCache(func(_ context.Context, id string) (store.Connection, error) {
		return store.Connection{ID: id, State: state}, nil
	}, func() time.Time { return now }, time.Hour, 10)
	ctx := context.Background()
	_, err := c.get(ctx, "a")
	require.NoError(t, err)
	state = store.ConnectionDisconnected
	c.forget("a")
	got, err := c.get(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, store.ConnectionDisconnected, got.State, "at once, within the TTL")
}
