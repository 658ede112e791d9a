package retention_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/retention"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/dbtest"
	"github.com/accordhq/accord/internal/store/sqlite"
)

var quiet = slog.New(slog.DiscardHandler)

// eachDB runs fn on every store (dbtest.Each).
func eachDB(t *testing.T, fn func(t *testing.T, st store.Store)) { dbtest.Each(t, fn) }

// bundle is what a sweep is checked against.
type bundle struct {
	now time.Time
}

// seed stores 7 done events past the window, and one of each thing the
// sweep must keep: a young done event, old pending and queued events, a
// live OAuth state and a live lease; plus an expired state and lease.
func seed(t *testing.T, st store.Store) bundle {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	require.NoError(t, st.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "one"}))
	require.NoError(t, st.CreateConnection(ctx, store.Connection{TenantID: "t1", ID: "c1", Provider: "p",
		State: store.ConnectionActive}))
	put := func(id string, state store.EventState, received time.Time) {
		_, err := st.InsertEvent(ctx, store.Event{TenantID: "t1", ID: id, ConnectionID: "c1", DedupKey: id,
			Type: "x", ObjectID: "o", ReceivedAt: received, State: state})
		require.NoError(t, err)
	}
	old := now.Add(-8 * 24 * time.Hour)
	for i := range 7 {
		put(fmt.Sprintf("evt_old_%d", i), store.EventDone, old.Add(time.Duration(i)*time.Second))
	}
	put("evt_young", store.EventDone, now.Add(-time.Hour))
	put("evt_pending", store.EventPending, old)
	put("evt_queued", store.EventQueued, old)
	require.NoError(t, st.CreateOAuthState(ctx, store.OAuthState{State: "s_old", TenantID: "t1", Provider: "p",
		ExpiresAt: now.Add(-time.Minute)}))
	require.NoError(t, st.CreateOAuthState(ctx, store.OAuthState{State: "s_live", TenantID: "t1", Provider: "p",
		ExpiresAt: now.Add(time.Hour)}))
	for key, ttl := range map[string]time.Duration{"short": time.Millisecond, "long": time.Hour} {
		ok, err := st.AcquireLease(ctx, "t1", key, "h", ttl)
		require.NoError(t, err)
		require.True(t, ok)
	}
	return bundle{now: now}
}

// requireSwept checks that exactly the expired rows are gone.
func requireSwept(t *testing.T, st store.Store) {
	t.Helper()
	ctx := context.Background()
	for i := range 7 {
		_, err := st.GetEvent(ctx, "t1", fmt.Sprintf("evt_old_%d", i))
		require.ErrorIs(t, err, store.ErrNotFound, i)
	}
	for _, id := range []string{"evt_young", "evt_pending", "evt_queued"} {
		_, err := st.GetEvent(ctx, "t1", id)
		require.NoError(t, err, id)
	}
	_, err := st.ConsumeOAuthState(ctx, "s_old")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = st.ConsumeOAuthState(ctx, "s_live")
	require.NoError(t, err)
	ok, err := st.AcquireLease(ctx, "t1", "long", "other", time.Hour)
	require.NoError(t, err)
	require.False(t, ok, "the live lease is kept")
}

func TestSweep(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		b := seed(t, st)
		// A minute on: the 1 ms lease has expired by the sweep's clock.
		w, err := retention.NewWorker(st, &retention.Config{BatchSize: 3, Logger: quiet,
			Now: func() time.Time { return b.now.Add(time.Minute) }})
		require.NoError(t, err)
		res, err := w.Sweep(context.Background())
		require.NoError(t, err)
		require.Equal(t, retention.Result{Events: 7, OAuthStates: 1, Leases: 1}, res, "7 events in 3 batches")
		requireSwept(t, st)

		res, err = w.Sweep(context.Background())
		require.NoError(t, err)
		require.Equal(t, retention.Result{}, res, "nothing left")
	})
}

// TestRegisterRunsPeriodically: registered, the sweep runs through the
// queue as a periodic job (at start-up, then every interval).
func TestRegisterRunsPeriodically(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		b := seed(t, st)
		reg := queue.NewRegistry()
		require.NoError(t, retention.Register(reg, st, &retention.Config{BatchSize: 3, Logger: quiet,
			Now: func() time.Time { return b.now.Add(time.Minute) }}))
		require.ErrorIs(t, retention.Register(reg, st, nil), queue.ErrDuplicateKind, "registered once")

		q, err := queue.New(st, reg, &queue.Config{Workers: true, MaxWorkers: 2, Logger: quiet})
		require.NoError(t, err)
		require.NoError(t, q.Migrate(ctx))
		events, unsub := q.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		defer unsub()
		require.NoError(t, q.Start(ctx))
		t.Cleanup(func() {
			stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = q.Stop(stopCtx)
		})
		for {
			select {
			case ev := <-events:
				if ev.Job.Kind != retention.Kind {
					continue
				}
				require.Equal(t, river.EventKindJobCompleted, ev.Kind, "sweep failed: %v", ev.Job.Errors)
				requireSwept(t, st)
				return
			case <-ctx.Done():
				t.Fatal("the retention job never ran")
			}
		}
	})
}

func TestConfigRejects(t *testing.T) {
	t.Parallel()
	st := sqlite.OpenTest(t)
	_, err := retention.NewWorker(st, &retention.Config{BatchSize: -1})
	require.ErrorContains(t, err, "BatchSize")
	_, err = retention.NewWorker(nil, nil)
	require.Error(t, err)
}
