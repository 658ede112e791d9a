package loadtest

import (
	"math"
	"slices"
	"time"
)

// Latency summarises a latency distribution.
type Latency struct {
	N                  int
	P50, P90, P99, Max time.Duration
}

// summarize computes exact percentiles (nearest rank) of ds; ds is sorted
// in place.
func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	return Latency{
		N:   len(ds),
		P50: rank(ds, 0.50),
		P90: rank(ds, 0.90),
		P99: rank(ds, 0.99),
		Max: ds[len(ds)-1],
	}
}

// rank is the nearest-rank percentile of sorted ds: the smallest value with
// at least q of the samples at or below it, so p99 of 100 samples is the
// 99th, not an interpolation that hides the tail.
func rank(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// bucket is one cumulative histogram bucket, as Prometheus exposes it.
type bucket struct {
	upper float64 // seconds; +Inf for the last
	count uint64  // observations ≤ upper
}

// histogramLatency estimates percentiles from cumulative buckets the way
// PromQL's histogram_quantile does (linear within a bucket). Max is the
// upper bound of the highest non-empty bucket, or the largest finite bound
// when observations fell in +Inf.
func histogramLatency(bs []bucket) Latency {
	if len(bs) == 0 {
		return Latency{}
	}
	total := bs[len(bs)-1].count
	if total == 0 {
		return Latency{}
	}
	l := Latency{N: int(total)}
	l.P50 = seconds(quantile(bs, 0.50))
	l.P90 = seconds(quantile(bs, 0.90))
	l.P99 = seconds(quantile(bs, 0.99))
	var prev uint64
	for _, b := range bs {
		if b.count > prev {
			l.Max = seconds(finite(bs, b.upper))
		}
		prev = b.count
	}
	return l
}

func quantile(bs []bucket, q float64) float64 {
	total := float64(bs[len(bs)-1].count)
	want := q * total
	lower, below := 0.0, 0.0
	for _, b := range bs {
		if float64(b.count) >= want {
			if math.IsInf(b.upper, 1) {
				return finite(bs, b.upper)
			}
			in := float64(b.count) - below
			if in == 0 {
				return b.upper
			}
			return lower + (b.upper-lower)*(want-below)/in
		}
		lower, below = b.upper, float64(b.count)
	}
	return finite(bs, math.Inf(1))
}

// finite returns upper, or the largest finite bucket bound for +Inf.
func finite(bs []bucket, upper float64) float64 {
	if !math.IsInf(upper, 1) {
		return upper
	}
	for i := len(bs) - 1; i >= 0; i-- {
		if !math.IsInf(bs[i].upper, 1) {
			return bs[i].upper
		}
	}
	return 0
}

// minus subtracts an earlier snapshot of the same histogram, so warm-up
// observations do not count.
func minus(now, before []bucket) []bucket {
	out := slices.Clone(now)
	for i := range out {
		if i < len(before) && before[i].upper == out[i].upper {
			out[i].count -= before[i].count
		}
	}
	return out
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
