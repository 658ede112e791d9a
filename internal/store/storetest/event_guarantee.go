package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// testEventTransitions: states only move forward; a late sweeper cannot
// bring a done event back to queued.
func testEventTransitions(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	set := func(id string, to store.EventState) {
		t.Helper()
		require.NoError(t, s.SetEventsState(ctx, []store.EventRef{{TenantID: "t1", ID: id}}, to))
	}
	tests := []struct {
		name     string
		from, to store.EventState
		want     store.EventState
	}{
		{"pending to queued", store.EventPending, store.EventQueued, store.EventQueued},
		{"pending to done", store.EventPending, store.EventDone, store.EventDone},
		{"queued to done", store.EventQueued, store.EventDone, store.EventDone},
		{"queued stays queued", store.EventQueued, store.EventPending, store.EventQueued},
		{"done never back to queued", store.EventDone, store.EventQueued, store.EventDone},
		{"done never back to pending", store.EventDone, store.EventPending, store.EventDone},
	}
	for i, tc := range tests {
		id := fmtID("evt_", i)
		putEvent(t, s, f, id, tc.from, at(0))
		set(id, tc.to)
		requireEventState(t, s, "t1", id, tc.want)
	}
}

// testEventOutcome: the outcome is stored with the move to done, and only
// then.
func testEventOutcome(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	putEvent(t, s, f, "evt_1", "", at(0))
	putEvent(t, s, f, "evt_2", "", at(0))

	require.NoError(t, s.SetEventsState(ctx, []store.EventRef{{TenantID: "t1", ID: "evt_1", Outcome: "applied"}},
		store.EventQueued))
	got, err := s.GetEvent(ctx, "t1", "evt_1")
	require.NoError(t, err)
	require.Empty(t, got.Outcome, "not done yet")

	require.NoError(t, s.SetEventsState(ctx, []store.EventRef{
		{TenantID: "t1", ID: "evt_1", Outcome: "applied"},
		{TenantID: "t1", ID: "evt_2", Outcome: "stale"},
	}, store.EventDone))
	for id, want := range map[string]string{"evt_1": "applied", "evt_2": "stale"} {
		got, err := s.GetEvent(ctx, "t1", id)
		require.NoError(t, err)
		require.Equal(t, store.EventDone, got.State)
		require.Equal(t, want, got.Outcome, id)
	}

	// A second done (a retried job) does not rewrite the first outcome.
	require.NoError(t, s.SetEventsState(ctx, []store.EventRef{{TenantID: "t1", ID: "evt_2", Outcome: "failed"}},
		store.EventDone))
	got, err = s.GetEvent(ctx, "t1", "evt_2")
	require.NoError(t, err)
	require.Equal(t, "stale", got.Outcome)
}

// testClaimPendingEvents: claiming moves pending events to queued and
// returns them; two claimers racing never get the same event.
func testClaimPendingEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := seed(t, s, "ta")
	b := seed(t, s, "tb")
	putEvent(t, s, b, "evt_2", "", at(2*time.Second))
	putEvent(t, s, a, "evt_1", "", at(1*time.Second))
	putEvent(t, s, a, "evt_queued", store.EventQueued, at(0))
	putEvent(t, s, b, "evt_done", store.EventDone, at(0))
	putEvent(t, s, a, "evt_young", "", at(time.Hour))

	got, err := s.ClaimPendingEvents(ctx, at(time.Minute), 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "evt_1", got[0].ID, "the oldest first")
	require.Equal(t, store.EventQueued, got[0].State)
	require.Equal(t, a.conn.ID, got[0].ConnectionID)
	requireEventState(t, s, "ta", "evt_1", store.EventQueued)

	got, err = s.ClaimPendingEvents(ctx, at(time.Minute), 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "tb/evt_2", got[0].TenantID+"/"+got[0].ID)

	got, err = s.ClaimPendingEvents(ctx, at(time.Minute), 10)
	require.NoError(t, err)
	require.Empty(t, got, "claimed ones, queued and done ones are not claimed")
	requireEventState(t, s, "tb", "evt_done", store.EventDone)
	requireEventState(t, s, "ta", "evt_young", store.EventPending)

	got, err = s.ClaimPendingEvents(ctx, time.Time{}, 10)
	require.NoError(t, err)
	require.Empty(t, got)

	// A claim in a transaction that rolls back claimed nothing.
	require.Error(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.ClaimPendingEvents(ctx, at(2*time.Hour), 10)
		require.NoError(t, err)
		require.Len(t, got, 1)
		return store.ErrConflict
	}))
	requireEventState(t, s, "ta", "evt_young", store.EventPending)
}

func testClaimPendingEventsRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	const n = 200
	require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		for i := range n {
			putEvent(t, tx, f, fmtID("evt_", i), "", at(time.Duration(i)*time.Millisecond))
		}
		return nil
	}))
	const claimers = 4
	claimed := make([][]string, claimers)
	errs := make([]error, claimers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for c := range claimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for {
				evs, err := s.ClaimPendingEvents(ctx, at(time.Hour), 7)
				if err != nil {
					errs[c] = err
					return
				}
				if len(evs) == 0 {
					return
				}
				for _, e := range evs {
					claimed[c] = append(claimed[c], e.ID)
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	var all []string
	for c := range claimers {
		require.NoError(t, errs[c])
		all = append(all, claimed[c]...)
	}
	slices.Sort(all)
	require.Len(t, all, n, "every event claimed once")
	require.Len(t, slices.Compact(all), n, "no event claimed twice")
}

// testDeleteDoneEvents: retention deletes only done events older than the
// cutoff, in batches.
func testDeleteDoneEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := seed(t, s, "ta")
	b := seed(t, s, "tb")
	for i := range 5 {
		putEvent(t, s, []fixture{a, b}[i%2], fmtID("evt_old_", i), store.EventDone, at(time.Duration(i)*time.Second))
	}
	putEvent(t, s, a, "evt_new", store.EventDone, at(time.Hour))
	putEvent(t, s, a, "evt_pending", "", at(0))
	putEvent(t, s, b, "evt_queued", store.EventQueued, at(0))

	n, err := s.DeleteDoneEventsBefore(ctx, at(time.Minute), 3)
	require.NoError(t, err)
	require.Equal(t, 3, n, "one batch")
	n, err = s.DeleteDoneEventsBefore(ctx, at(time.Minute), 3)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = s.DeleteDoneEventsBefore(ctx, at(time.Minute), 3)
	require.NoError(t, err)
	require.Zero(t, n)

	for i := range 5 {
		_, err := s.GetEvent(ctx, []string{"ta", "tb"}[i%2], fmtID("evt_old_", i))
		require.ErrorIs(t, err, store.ErrNotFound)
	}
	requireEventState(t, s, "ta", "evt_new", store.EventDone)
	requireEventState(t, s, "ta", "evt_pending", store.EventPending)
	requireEventState(t, s, "tb", "evt_queued", store.EventQueued)
}
