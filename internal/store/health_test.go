package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

func TestLatencyQuantile(t *testing.T) {
	t.Parallel()
	hist := func(ds ...time.Duration) store.LatencyHistogram {
		h := make(store.LatencyHistogram, len(store.LatencyBounds)+1)
		for _, d := range ds {
			h[store.LatencyBucket(d)]++
		}
		return h
	}
	many := func(n int, d time.Duration) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = d
		}
		return out
	}
	tests := []struct {
		name string
		h    store.LatencyHistogram
		q    float64
		near time.Duration // the estimate is in this latency's bucket
	}{
		{"one event", hist(50 * time.Millisecond), 0.5, 50 * time.Millisecond},
		{"under a millisecond", hist(200 * time.Microsecond), 0.5, 200 * time.Microsecond},
		{"median of a spread", hist(append(many(60, 20*time.Millisecond), many(40, 2*time.Second)...)...), 0.5, 20 * time.Millisecond},
		{"tail", hist(append(many(98, 20*time.Millisecond), many(2, 2*time.Second)...)...), 0.99, 2 * time.Second},
		{"slower than the last bound", hist(10 * time.Hour), 0.5, store.LatencyBounds[len(store.LatencyBounds)-1]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, ok := tc.h.Quantile(tc.q)
			require.True(t, ok)
			b := store.LatencyBucket(tc.near)
			lo := time.Duration(0)
			if b > 0 {
				lo = store.LatencyBounds[b-1]
			}
			require.GreaterOrEqual(t, d, lo)
			if b < len(store.LatencyBounds) {
				require.LessOrEqual(t, d, store.LatencyBounds[b])
			}
		})
	}
	_, ok := store.LatencyHistogram(nil).Quantile(0.5)
	require.False(t, ok, "no events, no estimate")
	require.Equal(t, 3, hist(time.Second).Add(hist(time.Second, time.Millisecond)).Total())
}
