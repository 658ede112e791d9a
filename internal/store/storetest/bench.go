package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/accordhq/accord/internal/store"
)

// BenchOpen returns a fresh, migrated, empty store for one benchmark and
// closes it when the benchmark ends.
type BenchOpen func(b *testing.B) store.Store

// BenchSeeded opens a store and creates what BenchEvent's events refer to:
// tenant t1 and its connection c1.
func BenchSeeded(b *testing.B, open BenchOpen) store.Store {
	b.Helper()
	ctx := context.Background()
	s := open(b)
	if err := s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "bench"}); err != nil {
		b.Fatal(err)
	}
	if err := s.CreateConnection(ctx, store.Connection{TenantID: "t1", ID: "c1", Provider: "p",
		State: store.ConnectionActive}); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchEvent is the i-th event of a benchmark: a distinct id and dedup key
// each, on BenchSeeded's tenant and connection.
func BenchEvent(i int) store.Event {
	id := fmt.Sprintf("evt_%d", i)
	return store.Event{TenantID: "t1", ID: id, ConnectionID: "c1", DedupKey: id, Type: "ticket.updated",
		ObjectID: "T-1", ObjectVersion: int64(i), Payload: []byte(`{"id":"T-1","status":"open"}`)}
}

// BenchInsertEvent runs the store's side of an event insert benchmark as
// sub-benchmarks: one_per_tx (each InsertEvent its own transaction) and
// 100_per_InTx (what group commit buys, also reported as ns/event). A
// dialect adds its raw-driver baseline next to them, from BenchSeeded and
// BenchEvent.
func BenchInsertEvent(b *testing.B, open BenchOpen) {
	ctx := context.Background()

	b.Run("one_per_tx", func(b *testing.B) {
		s := BenchSeeded(b, open)
		i := 0
		for b.Loop() {
			i++
			if _, err := s.InsertEvent(ctx, BenchEvent(i)); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("100_per_InTx", func(b *testing.B) {
		s := BenchSeeded(b, open)
		i := 0
		for b.Loop() {
			err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				for range 100 {
					i++
					if _, err := tx.InsertEvent(ctx, BenchEvent(i)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/event")
	})
}
