package row

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/accordhq/accord/internal/store"
)

// LatencyBucketSQL is an SQL expression mapping nanos, an SQL expression
// of a latency in nanoseconds, to its bucket of store.LatencyBounds: the
// same in both dialects, so a bucket is computed in the query that rolls
// the hour up rather than stored per event. It is a binary search of
// nested CASEs (six comparisons a row instead of up to 48 in a flat
// CASE, which was most of a recent hour's cost).
func LatencyBucketSQL(nanos string) string {
	var b strings.Builder
	var search func(lo, hi int) // buckets [lo, hi]
	search = func(lo, hi int) {
		if lo == hi {
			fmt.Fprintf(&b, "%d", lo)
			return
		}
		mid := (lo + hi + 1) / 2 // bucket mid starts at LatencyBounds[mid-1]
		fmt.Fprintf(&b, "CASE WHEN %s < %d THEN ", nanos, int64(store.LatencyBounds[mid-1]))
		search(lo, mid-1)
		b.WriteString(" ELSE ")
		search(mid, hi)
		b.WriteString(" END")
	}
	search(0, len(store.LatencyBounds))
	return b.String()
}

// NoBucket marks, in a latency rollup, an hour without applied events
// (HourCount.Outcome "").
const NoBucket = -1

// BucketKey and KeyBucket carry a latency bucket in HourCount.Outcome, so
// that EventsByHour rolls latencies up as it does outcomes.
func BucketKey(b int) string {
	if b == NoBucket {
		return ""
	}
	return strconv.Itoa(b)
}

// KeyBucket is BucketKey's inverse.
func KeyBucket(k string) int {
	b, err := strconv.Atoi(k)
	if err != nil {
		return NoBucket
	}
	return b
}

// Latencies folds EventsByHour's rows of a latency rollup into a
// histogram (rows of events not done are left out).
func Latencies(rows []HourCount) store.LatencyHistogram {
	h := make(store.LatencyHistogram, len(store.LatencyBounds)+1)
	for _, r := range rows {
		b := KeyBucket(r.Outcome)
		if r.State != store.EventDone || b < 0 || b >= len(h) {
			continue
		}
		h[b] += r.N
	}
	return h
}

// MergeRejections sums the counts of rs by (tenant, connection, hour,
// reason), dropping empty ones: one upsert must not touch a row twice.
func MergeRejections(rs []store.WebhookRejection) []store.WebhookRejection {
	type key struct {
		t, c, r string
		h       int64
	}
	idx := map[key]int{}
	var out []store.WebhookRejection
	for _, r := range rs {
		if r.N <= 0 {
			continue
		}
		k := key{r.TenantID, r.ConnectionID, r.Reason, UnixHour(r.Hour)}
		if i, ok := idx[k]; ok {
			out[i].N += r.N
			continue
		}
		idx[k] = len(out)
		out = append(out, r)
	}
	return out
}
