package loadtest_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/loadtest"
)

func TestSummarizeUsesNearestRank(t *testing.T) {
	t.Parallel()
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	cases := []struct {
		name string
		in   []time.Duration
		want loadtest.Latency
	}{
		{"empty", nil, loadtest.Latency{}},
		{"one", []time.Duration{ms(7)}, loadtest.Latency{N: 1, P50: ms(7), P90: ms(7), P99: ms(7), Max: ms(7)}},
		{
			// 1..100 ms shuffled: p99 is the 99th value, not 99.01.
			"hundred", shuffled(100),
			loadtest.Latency{N: 100, P50: ms(50), P90: ms(90), P99: ms(99), Max: ms(100)},
		},
		{
			// One slow event in ten is the p90 tail, and must show.
			"tail", []time.Duration{ms(1), ms(1), ms(1), ms(1), ms(1), ms(1), ms(1), ms(1), ms(1), ms(500)},
			loadtest.Latency{N: 10, P50: ms(1), P90: ms(1), P99: ms(500), Max: ms(500)},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, loadtest.Summarize(tc.in))
		})
	}
}

func shuffled(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range n {
		out[i] = time.Duration((i*37)%n+1) * time.Millisecond
	}
	return out
}

func TestHistogramLatencyInterpolatesLikePromQL(t *testing.T) {
	t.Parallel()
	b := loadtest.NewBucket
	inf := math.Inf(1)
	cases := []struct {
		name string
		in   []loadtest.Bucket
		want loadtest.Latency
	}{
		{"empty", []loadtest.Bucket{b(0.01, 0), b(inf, 0)}, loadtest.Latency{}},
		{
			// 100 observations spread evenly over (10ms, 20ms].
			"one bucket", []loadtest.Bucket{b(0.01, 0), b(0.02, 100), b(inf, 100)},
			loadtest.Latency{N: 100, P50: 15 * time.Millisecond, P90: 19 * time.Millisecond, P99: 19900 * time.Microsecond, Max: 20 * time.Millisecond},
		},
		{
			// Observations past the last bound are reported at that bound:
			// the histogram cannot say more.
			"overflow", []loadtest.Bucket{b(0.01, 50), b(0.1, 50), b(inf, 100)},
			loadtest.Latency{N: 100, P50: 10 * time.Millisecond, P90: 100 * time.Millisecond, P99: 100 * time.Millisecond, Max: 100 * time.Millisecond},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := loadtest.HistogramLatency(tc.in)
			require.Equal(t, tc.want.N, got.N)
			for _, pair := range [][2]time.Duration{{tc.want.P50, got.P50}, {tc.want.P90, got.P90}, {tc.want.P99, got.P99}, {tc.want.Max, got.Max}} {
				require.InDelta(t, float64(pair[0]), float64(pair[1]), float64(time.Microsecond), "want %+v, got %+v", tc.want, got)
			}
		})
	}
}

func TestMinusDropsWarmUpObservations(t *testing.T) {
	t.Parallel()
	b := loadtest.NewBucket
	inf := math.Inf(1)
	before := []loadtest.Bucket{b(0.01, 20), b(1, 20), b(inf, 20)}
	after := []loadtest.Bucket{b(0.01, 20), b(1, 120), b(inf, 120)}
	got := loadtest.HistogramLatency(loadtest.Minus(after, before))
	require.Equal(t, 100, got.N)
	require.Greater(t, got.P50, 10*time.Millisecond, "the 20 fast warm-up events are gone")
}
