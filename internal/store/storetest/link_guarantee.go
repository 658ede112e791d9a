package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// testLinkAction: one source record written by two actions is two links,
// each with its own partner object.
func testLinkAction(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	key := store.LinkKey{TenantID: "t1", InstallationID: f.inst.ID, SourceObject: "ticket", SourceID: "T-1",
		TargetObject: "incident", Action: "escalate"}
	note := key
	note.Action = "annotate"

	require.NoError(t, s.UpsertLink(ctx, store.Link{LinkKey: key, TargetID: "INC-1", Version: 1}))
	require.NoError(t, s.UpsertLink(ctx, store.Link{LinkKey: note, TargetID: "INC-2", Version: 1}))

	got, err := s.GetLink(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "INC-1", got.TargetID)
	require.Equal(t, key, got.LinkKey, "the action comes back in the key")
	got, err = s.GetLink(ctx, note)
	require.NoError(t, err)
	require.Equal(t, "INC-2", got.TargetID)

	noAction := key
	noAction.Action = ""
	_, err = s.GetLink(ctx, noAction)
	require.ErrorIs(t, err, store.ErrNotFound, "the action is part of the key")
}

// testLinkFence: a write carrying an older version than the stored link's
// loses, visibly, and changes nothing; equal versions overwrite.
func testLinkFence(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	key := store.LinkKey{TenantID: "t1", InstallationID: f.inst.ID, SourceObject: "ticket", SourceID: "T-1",
		TargetObject: "incident", Action: "escalate"}
	v2 := store.Link{LinkKey: key, TargetID: "INC-2", Version: 2, Fields: json.RawMessage(`{"v":2}`), UpdatedAt: at(0)}
	require.NoError(t, s.UpsertLink(ctx, v2))

	v1 := store.Link{LinkKey: key, TargetID: "INC-1", Version: 1, Fields: json.RawMessage(`{"v":1}`), UpdatedAt: at(time.Minute)}
	require.ErrorIs(t, s.UpsertLink(ctx, v1), store.ErrStaleLink)
	got, err := s.GetLink(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "INC-2", got.TargetID, "v2 kept")
	require.Equal(t, int64(2), got.Version)
	requireJSONEq(t, v2.Fields, got.Fields, "fields kept")
	require.Equal(t, norm(at(0)), got.UpdatedAt)

	// In a transaction too: the caller can branch and commit the rest.
	require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		require.ErrorIs(t, tx.UpsertLink(ctx, v1), store.ErrStaleLink)
		return nil
	}))

	again := v2
	again.TargetID = "INC-2b"
	require.NoError(t, s.UpsertLink(ctx, again), "equal versions: last writer wins")
	got, err = s.GetLink(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "INC-2b", got.TargetID)

	v3 := store.Link{LinkKey: key, TargetID: "INC-3", Version: 3, EventID: "evt_b", EventAt: 2000}
	require.NoError(t, s.UpsertLink(ctx, v3))
	got, err = s.GetLink(ctx, key)
	require.NoError(t, err)
	require.Equal(t, int64(3), got.Version)

	// Equal versions are ordered by receipt: an event received earlier
	// that writes late is stale; one received later wins.
	early := store.Link{LinkKey: key, TargetID: "INC-3", Version: 3, EventID: "evt_a", EventAt: 1000}
	require.ErrorIs(t, s.UpsertLink(ctx, early), store.ErrStaleLink)
	later := store.Link{LinkKey: key, TargetID: "INC-3", Version: 3, EventID: "evt_c", EventAt: 3000}
	require.NoError(t, s.UpsertLink(ctx, later))
	got, err = s.GetLink(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "evt_c", got.EventID)
	require.Equal(t, int64(3000), got.EventAt)
}

// testLinkUncertain: a write whose answer never came is flagged until a
// later write succeeds, and the settlement job finds it across tenants.
func testLinkUncertain(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := seed(t, s, "ta")
	b := seed(t, s, "tb")
	keyOf := func(f fixture, src string) store.LinkKey {
		return store.LinkKey{TenantID: f.tenant.ID, InstallationID: f.inst.ID, SourceObject: "ticket",
			SourceID: src, TargetObject: "incident", Action: "escalate"}
	}

	// No link yet: a placeholder, flagged, that any real write replaces.
	fresh := keyOf(a, "T-new")
	require.NoError(t, s.MarkLinkUncertain(ctx, fresh, at(time.Second)))
	got, err := s.GetLink(ctx, fresh)
	require.NoError(t, err)
	require.True(t, got.Uncertain)
	require.Equal(t, norm(at(time.Second)), got.UncertainSince)
	require.Empty(t, got.TargetID)
	require.Equal(t, int64(0), got.Version)

	// An existing link keeps target, version and fields; the first mark's
	// time stays.
	known := keyOf(b, "T-known")
	require.NoError(t, s.UpsertLink(ctx, store.Link{LinkKey: known, TargetID: "INC-7", Version: 5,
		Fields: json.RawMessage(`{"x":1}`)}))
	require.NoError(t, s.MarkLinkUncertain(ctx, known, at(2*time.Second)))
	require.NoError(t, s.MarkLinkUncertain(ctx, known, at(3*time.Second)))
	got, err = s.GetLink(ctx, known)
	require.NoError(t, err)
	require.True(t, got.Uncertain)
	require.Equal(t, norm(at(2*time.Second)), got.UncertainSince, "the first mark's time")
	require.Equal(t, "INC-7", got.TargetID)
	require.Equal(t, int64(5), got.Version)
	requireJSONEq(t, json.RawMessage(`{"x":1}`), got.Fields, "fields kept")

	// A clean link is not listed.
	require.NoError(t, s.UpsertLink(ctx, store.Link{LinkKey: keyOf(a, "T-clean"), TargetID: "INC-1", Version: 1}))

	list := func(before time.Time, limit int) []store.LinkKey {
		t.Helper()
		ls, err := s.ListUncertainLinks(ctx, before, limit)
		require.NoError(t, err)
		var out []store.LinkKey
		for _, l := range ls {
			require.True(t, l.Uncertain)
			out = append(out, l.LinkKey)
		}
		return out
	}
	require.Equal(t, []store.LinkKey{fresh, known}, list(at(time.Hour), 10), "oldest first, across tenants")
	require.Equal(t, []store.LinkKey{fresh}, list(at(2*time.Second), 10), "before is strict")
	require.Equal(t, []store.LinkKey{fresh}, list(at(time.Hour), 1))

	// A stale write does not settle it; a successful one does.
	require.ErrorIs(t, s.UpsertLink(ctx, store.Link{LinkKey: known, TargetID: "INC-6", Version: 4}), store.ErrStaleLink)
	require.Equal(t, []store.LinkKey{fresh, known}, list(at(time.Hour), 10))
	require.NoError(t, s.UpsertLink(ctx, store.Link{LinkKey: known, TargetID: "INC-7", Version: 6}))
	got, err = s.GetLink(ctx, known)
	require.NoError(t, err)
	require.False(t, got.Uncertain)
	require.True(t, got.UncertainSince.IsZero())
	require.NoError(t, s.UpsertLink(ctx, store.Link{LinkKey: fresh, TargetID: "INC-9", Version: 1}))
	require.Empty(t, list(at(time.Hour), 10))

	orphan := keyOf(a, "T-x")
	orphan.InstallationID = "inst_missing"
	require.ErrorIs(t, s.MarkLinkUncertain(ctx, orphan, at(0)), store.ErrNotFound, "a link needs its installation")
}

// testLinkTombstone: a deleted source's link keeps its version (an older
// write is stale) and a newer write, a restored record, clears the mark.
func testLinkTombstone(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	key := store.LinkKey{TenantID: "t1", InstallationID: f.inst.ID, SourceObject: "customer", SourceID: "C-1",
		TargetObject: "account", Action: "account"}
	require.NoError(t, s.UpsertLink(ctx, store.Link{LinkKey: key, TargetID: "A-1", Version: 1}))
	require.NoError(t, s.UpsertLink(ctx, store.Link{LinkKey: key, Version: 2, SourceDeleted: true}))
	got, err := s.GetLink(ctx, key)
	require.NoError(t, err)
	require.True(t, got.SourceDeleted)
	require.Empty(t, got.TargetID)
	require.Equal(t, int64(2), got.Version)

	require.ErrorIs(t, s.UpsertLink(ctx, store.Link{LinkKey: key, TargetID: "A-1", Version: 1}), store.ErrStaleLink,
		"an update older than the delete is stale")
	require.NoError(t, s.UpsertLink(ctx, store.Link{LinkKey: key, TargetID: "A-2", Version: 3}))
	got, err = s.GetLink(ctx, key)
	require.NoError(t, err)
	require.False(t, got.SourceDeleted, "a newer write is a restored record")
	require.Equal(t, "A-2", got.TargetID)
}
