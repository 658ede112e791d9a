package webhook

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/store"
)

// TestCommitter exposes the committer so tests can fill its queue before
// any committer goroutine runs: batches are then certain, not timing.
type TestCommitter struct{ c *committer }

func NewTestCommitter(st store.Store, q Queue, cfg *Config) *TestCommitter {
	c := cfg.withDefaults(st.Dialect() == store.DialectSQLite)
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		panic(err)
	}
	return &TestCommitter{c: newCommitter(st, q, slog.New(slog.DiscardHandler), m, &c)}
}

// Submit queues e with job and returns a function waiting for its result.
func (tc *TestCommitter) Submit(ctx context.Context, e store.Event, job river.InsertManyParams) (wait func() (inserted bool, err error), err error) {
	p := &pending{events: []store.Event{e}, jobs: []river.InsertManyParams{job}, done: make(chan commitResult, 1)}
	if err := tc.c.submit(ctx, p); err != nil {
		return nil, err
	}
	return func() (bool, error) {
		r := <-p.done
		if r.err != nil {
			return false, r.err
		}
		return r.inserted[0], nil
	}, nil
}

func (tc *TestCommitter) Start(n int) { tc.c.start(n) }
func (tc *TestCommitter) Close()      { tc.c.close() }
func (tc *TestCommitter) Txs() int64  { return tc.c.txs.Load() }

// BytesInFlight is what the ingress has reserved for bodies right now.
func BytesInFlight(in *Ingress) int64 { return in.budget.used.Load() }

// BytesInFlightPeak is the most it ever held at once.
func BytesInFlightPeak(in *Ingress) int64 { return in.budget.peak.Load() }
