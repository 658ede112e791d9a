package webhook_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/webhook"
)

// fastQueue adds River's InsertManyFastTx to the real queue, the way
// internal/queue can expose it: the same River client calls on the same
// database, so the ingress's optional fast path is tested and measured
// for real.
type fastQueue struct {
	*queue.Queue
	insert func(ctx context.Context, tx any, params []river.InsertManyParams) (int, error)
	calls  atomic.Int64
}

var _ webhook.FastQueue = (*fastQueue)(nil)

func (f *fastQueue) InsertManyFastTx(ctx context.Context, tx store.Tx, params []river.InsertManyParams) (int, error) {
	f.calls.Add(1)
	return f.insert(ctx, tx.Driver(), params)
}

func newFastQueue(t testing.TB, st store.Store, q *queue.Queue) *fastQueue {
	t.Helper()
	ws := river.NewWorkers()
	require.NoError(t, river.AddWorkerSafely(ws, river.Worker[eventJobArgs](noopWorker{})))
	cfg := &river.Config{Workers: ws}
	f := &fastQueue{Queue: q}
	switch d := st.Driver().(type) {
	case *sql.DB:
		client, err := river.NewClient(riversqlite.New(d), cfg)
		require.NoError(t, err)
		f.insert = func(ctx context.Context, tx any, p []river.InsertManyParams) (int, error) {
			return client.InsertManyFastTx(ctx, tx.(*sql.Tx), p)
		}
	case *pgxpool.Pool:
		client, err := river.NewClient(riverpgxv5.New(d), cfg)
		require.NoError(t, err)
		f.insert = func(ctx context.Context, tx any, p []river.InsertManyParams) (int, error) {
			return client.InsertManyFastTx(ctx, tx.(pgx.Tx), p)
		}
	default:
		t.Fatalf("unexpected store driver %T", d)
	}
	return f
}

// uniqueArgs asks River for uniqueness by args.
type uniqueArgs struct {
	EventID string `json:"event_id"`
}

func (uniqueArgs) Kind() string { return "webhook_test_event" }
func (uniqueArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

func TestCommitterUsesFastInsertUnlessAJobIsUnique(t *testing.T) {
	t.Parallel()
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, options{open: open})
			fq := newFastQueue(t, b.st, b.q)
			c := webhook.NewTestCommitter(b.st, fq, nil)
			t.Cleanup(c.Close)
			ctx := context.Background()

			var waits []func() (bool, error)
			for i := range 6 {
				e := testEvent(fmt.Sprintf("f%d", i))
				job := jobFor(e)
				if i == 3 {
					job = river.InsertManyParams{Args: unregisteredArgs{}} // poisoned
				}
				w, err := c.Submit(ctx, e, job)
				require.NoError(t, err)
				waits = append(waits, w)
			}
			c.Start(1)
			for i, w := range waits {
				ok, err := w()
				if i == 3 {
					require.Error(t, err)
					continue
				}
				require.NoError(t, err)
				require.True(t, ok)
			}
			require.Equal(t, 5, b.countJobs(t))
			require.Equal(t, int64(7), fq.calls.Load(), "the batch and each event alone went the fast way")

			// A unique job goes through InsertManyTx, which skips a duplicate
			// job instead of failing the batch.
			e := testEvent("unique")
			w, err := c.Submit(ctx, e, river.InsertManyParams{Args: uniqueArgs{EventID: e.ID}})
			require.NoError(t, err)
			ok, err := w()
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, int64(7), fq.calls.Load())
			require.Equal(t, 6, b.countJobs(t))
		})
	}
}
