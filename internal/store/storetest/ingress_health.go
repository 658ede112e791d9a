package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// testEventLatencies: the receipt → done latency of each applied event is
// counted in its bucket, from the events while the hour is recent and
// from the rollup once it settles (the counts outlive the events);
// events with another outcome are not counted.
func testEventLatencies(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	seed(t, s, "t2")
	n := 0
	deliver := func(latency time.Duration, outcome string) {
		t.Helper()
		n++
		id := fmtID("e_", n)
		ok, err := s.InsertEvent(ctx, store.Event{TenantID: "t1", ID: id, ConnectionID: f.conn.ID, DedupKey: id, Type: "x",
			ObjectID: "o", ObjectVersion: 1, ReceivedAt: clock.Now().Add(-latency)})
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, s.SetEventsState(ctx, []store.EventRef{{TenantID: "t1", ID: id, Outcome: outcome}}, store.EventDone))
	}
	for range 50 {
		deliver(10*time.Millisecond, "applied")
	}
	for range 49 {
		deliver(100*time.Millisecond, "applied")
	}
	deliver(2*time.Second, "applied")
	deliver(time.Minute, "failed")
	deliver(time.Minute, "filtered")

	within := func(d, around time.Duration) {
		t.Helper()
		b := store.LatencyBucket(around)
		require.GreaterOrEqual(t, d, store.LatencyBounds[b-1], "in the bucket of %s", around)
		require.LessOrEqual(t, d, store.LatencyBounds[b], "in the bucket of %s", around)
	}
	check := func(since time.Time) {
		t.Helper()
		h, err := s.EventLatencies(ctx, "t1", f.conn.ID, since)
		require.NoError(t, err)
		require.Equal(t, 100, h.Total(), "applied events only")
		p50, ok := h.Quantile(0.5)
		require.True(t, ok)
		within(p50, 10*time.Millisecond)
		p99, _ := h.Quantile(0.99)
		within(p99, 100*time.Millisecond)
		p100, _ := h.Quantile(1)
		within(p100, 2*time.Second)
	}
	since := clock.Now().Add(-24 * time.Hour)
	check(since)

	// Hours later the hour is sealed into the rollup; it outlives the
	// events.
	clock.Advance(3 * time.Hour)
	check(since)
	deleted, err := s.DeleteDoneEventsBefore(ctx, clock.Now(), 1000)
	require.NoError(t, err)
	require.Equal(t, 102, deleted)
	check(since)

	h, err := s.EventLatencies(ctx, "t2", f.conn.ID, since)
	require.NoError(t, err)
	require.Zero(t, h.Total(), "another tenant's connection id sees nothing")
	h, err = s.EventLatencies(ctx, "t1", f.conn.ID, clock.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.Zero(t, h.Total(), "a window after the events counts none")
	_, ok := h.Quantile(0.5)
	require.False(t, ok)
}

// testWebhookRejections: counts added in batches sum per connection, hour
// and reason; a window counts the hours from the one it starts in; a
// count for an unknown connection is dropped.
func testWebhookRejections(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	seed(t, s, "t2")
	now := time.Now().UTC()
	old := now.Add(-3 * 24 * time.Hour)
	require.NoError(t, s.AddWebhookRejections(ctx, []store.WebhookRejection{
		{TenantID: "t1", ConnectionID: f.conn.ID, Hour: now, Reason: "bad_signature", N: 3},
		{TenantID: "t1", ConnectionID: f.conn.ID, Hour: now, Reason: "bad_signature", N: 2},
		{TenantID: "t1", ConnectionID: f.conn.ID, Hour: now, Reason: "malformed", N: 1},
		{TenantID: "t1", ConnectionID: f.conn.ID, Hour: old, Reason: "bad_signature", N: 7},
		{TenantID: "t1", ConnectionID: "conn_gone", Hour: now, Reason: "bad_signature", N: 9},
	}))
	require.NoError(t, s.AddWebhookRejections(ctx, []store.WebhookRejection{
		{TenantID: "t1", ConnectionID: f.conn.ID, Hour: now, Reason: "too_large", N: 1},
		{TenantID: "t1", ConnectionID: f.conn.ID, Hour: now, Reason: "bad_signature", N: 1},
	}))
	require.NoError(t, s.AddWebhookRejections(ctx, nil))

	got, err := s.CountWebhookRejections(ctx, "t1", f.conn.ID, now.Add(-24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, map[string]int{"bad_signature": 6, "malformed": 1, "too_large": 1}, got)
	got, err = s.CountWebhookRejections(ctx, "t1", f.conn.ID, now.Add(-7*24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, map[string]int{"bad_signature": 13, "malformed": 1, "too_large": 1}, got)
	got, err = s.CountWebhookRejections(ctx, "t1", "conn_gone", now.Add(-24*time.Hour))
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = s.CountWebhookRejections(ctx, "t2", f.conn.ID, now.Add(-24*time.Hour))
	require.NoError(t, err)
	require.Empty(t, got, "another tenant sees none")
}
