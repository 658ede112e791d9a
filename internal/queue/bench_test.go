package queue

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"
)

// Run with ACCORD_TEST_POSTGRES set for the PostgreSQL half, e.g.
//
//	go test -run '^$' -bench InsertMany -benchtime 20x ./internal/queue/
//	go test -run '^$' -bench Throughput -benchtime 20000x ./internal/queue/
//
// Both run on the stores' defaults (durable: SQLite synchronous=FULL).

func noopRegistry(b *testing.B, done func()) *Registry {
	reg := NewRegistry()
	require.NoError(b, AddWorker(reg, river.WorkFunc(func(context.Context, *river.Job[noopArgs]) error {
		done()
		return nil
	})))
	return reg
}

// BenchmarkInsertMany measures batched inserts, the shape of group commit:
// one op is one batch.
func BenchmarkInsertMany(b *testing.B) {
	for _, db := range dbs {
		for _, size := range []int{100, 1000} {
			b.Run(fmt.Sprintf("%s/batch=%d", db.name, size), func(b *testing.B) {
				st := db.open(b)
				q := newTestQueue(b, st, noopRegistry(b, func() {}), &Config{
					Logger: slog.New(slog.DiscardHandler),
				})
				params := make([]river.InsertManyParams, size)
				for i := range params {
					params[i] = river.InsertManyParams{Args: noopArgs{N: i}}
				}
				ctx := context.Background()
				b.ResetTimer()
				start := time.Now()
				for b.Loop() {
					_, err := q.InsertMany(ctx, params)
					require.NoError(b, err)
				}
				b.ReportMetric(float64(b.N*size)/time.Since(start).Seconds(), "jobs/s")
			})
		}
	}
}

// BenchmarkThroughput measures how fast one process drains b.N no-op jobs
// queued beforehand, with the production defaults (1,000 workers, 10 ms
// cooldown, 100 ms poll).
func BenchmarkThroughput(b *testing.B) {
	for _, db := range dbs {
		b.Run(db.name, func(b *testing.B) {
			st := db.open(b)
			n := int64(b.N)
			var worked atomic.Int64
			allDone := make(chan struct{})
			reg := noopRegistry(b, func() {
				if worked.Add(1) == n {
					close(allDone)
				}
			})
			q := newTestQueue(b, st, reg, &Config{
				Workers: true,
				Logger:  slog.New(slog.DiscardHandler),
			})
			ctx := context.Background()
			const batch = 1000
			params := make([]river.InsertManyParams, 0, batch)
			for i := 0; i < b.N; i++ {
				params = append(params, river.InsertManyParams{Args: noopArgs{N: i}})
				if len(params) == batch || i == b.N-1 {
					_, err := q.InsertMany(ctx, params)
					require.NoError(b, err)
					params = params[:0]
				}
			}

			b.ResetTimer()
			start := time.Now()
			require.NoError(b, q.Start(ctx))
			<-allDone
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "jobs/s")
			stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			require.NoError(b, q.Stop(stopCtx))
		})
	}
}
