package store

import (
	"context"
	"math"
	"slices"
	"time"
)

// EventCounts counts a connection's events received in a window.
type EventCounts struct {
	// Outcomes counts done events by their outcome ("" for a done event
	// stored without one).
	Outcomes map[string]int
	// InFlight counts events not done yet (pending or queued).
	InFlight int
}

// Total is every event counted, done or not.
func (c EventCounts) Total() int {
	n := c.InFlight
	for _, v := range c.Outcomes {
		n += v
	}
	return n
}

// EventHour counts a connection's events received in one hour.
type EventHour struct {
	Start  time.Time // UTC, on the hour
	Counts EventCounts
}

// HealthQueries are the reads behind the Integration Health page. Each is
// answered from an index that leads with the tenant and the connection or
// installation, so its cost grows with that installation's rows in the
// window, not with the table.
type HealthQueries interface {
	// CountEvents counts the events received on the connection at or
	// after since, by state and outcome.
	CountEvents(ctx context.Context, tenantID, connectionID string, since time.Time) (EventCounts, error)
	// CountEventsByHour is CountEvents hour by hour: one entry per hour
	// with events, oldest first (the first hour counts from since only).
	CountEventsByHour(ctx context.Context, tenantID, connectionID string, since time.Time) ([]EventHour, error)
	// LastEventWithOutcome returns the newest (by ReceivedAt) done event
	// received on the connection with that outcome; ErrNotFound if there
	// is none.
	LastEventWithOutcome(ctx context.Context, tenantID, connectionID, outcome string) (Event, error)
	// CountRecordErrors counts the installation's record errors with the
	// status ("" for any), by class.
	CountRecordErrors(ctx context.Context, tenantID, installationID string, status RecordErrorStatus) (map[string]int, error)
}

// LatencyBounds are the upper bounds (exclusive) of the latency histogram
// buckets: 1 ms × √2ⁱ, from 1 ms to about 3.3 hours. Bucket i counts
// latencies in [LatencyBounds[i-1], LatencyBounds[i]) (bucket 0 from 0);
// bucket len(LatencyBounds) counts everything longer. Log-spaced buckets
// keep a percentile's error under ~20% at any scale with a fixed, small
// number of rollup rows per hour.
var LatencyBounds = func() []time.Duration {
	out := make([]time.Duration, 48)
	for i := range out {
		out[i] = time.Duration(float64(time.Millisecond) * math.Pow(2, float64(i)/2))
	}
	return out
}()

// LatencyHistogram counts a connection's applied events by the time from
// their receipt to the end of their delivery (the last partner write),
// one count per bucket of LatencyBounds (len(LatencyBounds)+1 entries).
type LatencyHistogram []int

// Total is the number of events counted.
func (h LatencyHistogram) Total() int {
	n := 0
	for _, c := range h {
		n += c
	}
	return n
}

// Add adds o's counts to h and returns the sum.
func (h LatencyHistogram) Add(o LatencyHistogram) LatencyHistogram {
	if len(h) < len(o) {
		h = append(h, make(LatencyHistogram, len(o)-len(h))...)
	}
	for i, c := range o {
		h[i] += c
	}
	return h
}

// Quantile estimates the q-quantile (0 < q ≤ 1) of the latencies: it
// finds the bucket holding it and interpolates inside the bucket on a log
// scale (linearly in the first), so it is an estimate within the bucket's
// bounds, not an exact figure. ok is false for an empty histogram. A
// quantile in the overflow bucket is its lower bound.
func (h LatencyHistogram) Quantile(q float64) (d time.Duration, ok bool) {
	total := h.Total()
	if total == 0 {
		return 0, false
	}
	rank := q * float64(total)
	seen := 0.0
	for i, c := range h {
		if c == 0 {
			continue
		}
		if seen+float64(c) < rank && i < len(h)-1 {
			seen += float64(c)
			continue
		}
		if i >= len(LatencyBounds) {
			return LatencyBounds[len(LatencyBounds)-1], true
		}
		frac := min(max((rank-seen)/float64(c), 0), 1)
		hi := float64(LatencyBounds[i])
		if i == 0 {
			return time.Duration(frac * hi), true
		}
		lo := float64(LatencyBounds[i-1])
		return time.Duration(lo * math.Pow(hi/lo, frac)), true
	}
	return LatencyBounds[len(LatencyBounds)-1], true
}

// LatencyBucket is the bucket of LatencyBounds that d falls in.
func LatencyBucket(d time.Duration) int {
	i, _ := slices.BinarySearch(LatencyBounds, d+1)
	return i
}

// WebhookRejection counts the webhook requests refused on one connection
// in one hour for one reason (the ingress's outcome: bad_signature,
// malformed, too_large, overloaded, not_found).
type WebhookRejection struct {
	TenantID     string
	ConnectionID string
	Hour         time.Time // truncated to the hour by the store
	Reason       string
	N            int
}

// IngressHealthQueries are the reads and writes behind the health page's
// latency and rejection figures.
type IngressHealthQueries interface {
	// EventLatencies is the histogram of the latencies of the events
	// received on the connection at or after since and applied; like
	// CountEvents it reads settled hours from a rollup, so its cost does
	// not grow with the traffic. An event applied before done times were
	// stored (migration 0120) is not counted.
	EventLatencies(ctx context.Context, tenantID, connectionID string, since time.Time) (LatencyHistogram, error)
	// AddWebhookRejections adds the counts to the stored ones, in one
	// statement; a count for a connection that no longer exists is
	// dropped.
	AddWebhookRejections(ctx context.Context, rs []WebhookRejection) error
	// CountWebhookRejections sums the connection's rejections by reason
	// over the hours from the one since falls in.
	CountWebhookRejections(ctx context.Context, tenantID, connectionID string, since time.Time) (map[string]int, error)
}
