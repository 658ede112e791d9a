package storetest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

func testEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	e := store.Event{
		TenantID: "t1", ID: "evt_1", ConnectionID: f.conn.ID, DedupKey: "partner-evt-1",
		Type: "ticket.updated", ObjectID: "T-1", ObjectVersion: 1741064767123456789,
		Payload: json.RawMessage(`{"id":"T-1","fields":{"status":"open"},"n":12345678901}`), ReceivedAt: at(0),
	}
	inserted, err := s.InsertEvent(ctx, e)
	require.NoError(t, err)
	require.True(t, inserted)

	got, err := s.GetEvent(ctx, "t1", "evt_1")
	require.NoError(t, err)
	requireJSONEq(t, e.Payload, got.Payload, "payload")
	want := e
	want.ReceivedAt = norm(e.ReceivedAt)
	want.State = store.EventPending // the default for an empty State
	want.Payload, got.Payload = nil, nil
	require.Equal(t, want, got)

	// The partner delivers the same event again under a new id: skipped, and
	// the first copy is untouched.
	dup := e
	dup.ID = "evt_2"
	dup.Payload = json.RawMessage(`{"changed":true}`)
	inserted, err = s.InsertEvent(ctx, dup)
	require.NoError(t, err)
	require.False(t, inserted)
	_, err = s.GetEvent(ctx, "t1", "evt_2")
	require.ErrorIs(t, err, store.ErrNotFound)
	got, err = s.GetEvent(ctx, "t1", "evt_1")
	require.NoError(t, err)
	requireJSONEq(t, e.Payload, got.Payload, "first payload kept")

	// The same dedup key on another connection is another event.
	c2 := f.conn
	c2.ID = "conn_other"
	require.NoError(t, s.CreateConnection(ctx, c2))
	other := e
	other.ID, other.ConnectionID = "evt_3", "conn_other"
	inserted, err = s.InsertEvent(ctx, other)
	require.NoError(t, err)
	require.True(t, inserted)

	// A new dedup key under an existing event id is a conflict, not a skip.
	clash := e
	clash.DedupKey = "partner-evt-2"
	_, err = s.InsertEvent(ctx, clash)
	require.ErrorIs(t, err, store.ErrConflict)

	orphan := e
	orphan.ID, orphan.ConnectionID, orphan.DedupKey = "evt_4", "conn_missing", "x"
	_, err = s.InsertEvent(ctx, orphan)
	require.ErrorIs(t, err, store.ErrNotFound, "an event needs its connection")

	// No payload and no ReceivedAt: stored as empty and now.
	bare := store.Event{TenantID: "t1", ID: "evt_5", ConnectionID: f.conn.ID, DedupKey: "bare", Type: "ping"}
	inserted, err = s.InsertEvent(ctx, bare)
	require.NoError(t, err)
	require.True(t, inserted)
	got, err = s.GetEvent(ctx, "t1", "evt_5")
	require.NoError(t, err)
	require.Empty(t, got.Payload)
	require.False(t, got.ReceivedAt.IsZero())

	_, err = s.GetEvent(ctx, "t1", "evt_missing")
	require.ErrorIs(t, err, store.ErrNotFound)
}

// testEventsConcurrentDedup is a partner retrying a webhook while the first
// delivery is still being stored: exactly one copy survives.
func testEventsConcurrentDedup(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	const n = 20
	results := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = s.InsertEvent(ctx, store.Event{
				TenantID: "t1", ID: fmtID("evt_", i), ConnectionID: f.conn.ID, DedupKey: "same",
				Type: "ticket.updated", ObjectID: "T-1", ObjectVersion: int64(i), ReceivedAt: at(0),
			})
		}()
	}
	close(start)
	wg.Wait()
	winners := 0
	winner := ""
	for i := range n {
		require.NoError(t, errs[i])
		if results[i] {
			winners++
			winner = fmtID("evt_", i)
		}
	}
	require.Equal(t, 1, winners)
	got, err := s.GetEvent(ctx, "t1", winner)
	require.NoError(t, err)
	require.Equal(t, "same", got.DedupKey)
}

func testLinks(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	key := store.LinkKey{TenantID: "t1", InstallationID: f.inst.ID, SourceObject: "ticket", SourceID: "T-1",
		TargetObject: "incident"}
	_, err := s.GetLink(ctx, key)
	require.ErrorIs(t, err, store.ErrNotFound)

	l := store.Link{LinkKey: key, TargetID: "INC-9", Version: 7, Fields: json.RawMessage(`{"title":"Down"}`),
		UpdatedAt: at(0)}
	require.NoError(t, s.UpsertLink(ctx, l))
	got, err := s.GetLink(ctx, key)
	require.NoError(t, err)
	requireJSONEq(t, l.Fields, got.Fields, "fields")
	require.Equal(t, key, got.LinkKey)
	require.Equal(t, "INC-9", got.TargetID)
	require.Equal(t, int64(7), got.Version)
	require.Equal(t, norm(l.UpdatedAt), got.UpdatedAt)

	// Upsert replaces every value at the key.
	l2 := store.Link{LinkKey: key, TargetID: "INC-10", Version: 8, Fields: json.RawMessage(`{"title":"Up","sev":2}`),
		EventID: "evt_8", EventAt: 1741064767123456789, ETag: `W/"rev-8"`, UpdatedAt: at(time.Minute)}
	require.NoError(t, s.UpsertLink(ctx, l2))
	got, err = s.GetLink(ctx, key)
	require.NoError(t, err)
	requireJSONEq(t, l2.Fields, got.Fields, "fields replaced")
	require.Equal(t, "INC-10", got.TargetID)
	require.Equal(t, int64(8), got.Version)
	require.Equal(t, "evt_8", got.EventID, "the event that wrote it")
	require.Equal(t, int64(1741064767123456789), got.EventAt, "receipt order, nanoseconds kept")
	require.Equal(t, `W/"rev-8"`, got.ETag, "the partner's ETag for the next If-Match")
	require.Equal(t, norm(l2.UpdatedAt), got.UpdatedAt)

	// Every part of the key matters.
	variants := []func(k *store.LinkKey){
		func(k *store.LinkKey) { k.TargetObject = "task" },
		func(k *store.LinkKey) { k.SourceID = "T-2" },
		func(k *store.LinkKey) { k.SourceObject = "comment" },
		func(k *store.LinkKey) { k.InstallationID = "inst_other" },
	}
	for _, mutate := range variants {
		k := key
		mutate(&k)
		_, err := s.GetLink(ctx, k)
		require.ErrorIs(t, err, store.ErrNotFound, "%+v", k)
	}
	other := l
	other.TargetObject = "task"
	other.TargetID = "TASK-1"
	require.NoError(t, s.UpsertLink(ctx, other))
	got, err = s.GetLink(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "INC-10", got.TargetID, "a link to another target object is a separate link")

	orphan := l
	orphan.InstallationID = "inst_missing"
	require.ErrorIs(t, s.UpsertLink(ctx, orphan), store.ErrNotFound, "a link needs its installation")
}
