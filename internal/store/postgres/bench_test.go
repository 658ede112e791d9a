package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/postgres"
)

// BenchmarkInsertEvent measures event inserts: one per transaction, 100 per
// InTx (what group commit buys), and a raw database/sql loop over the same
// pool as the floor the store's own overhead sits on.
func BenchmarkInsertEvent(b *testing.B) {
	dsn := testDSN(b)
	ctx := context.Background()
	setup := func(b *testing.B) *postgres.Store {
		s := postgres.OpenTestSchema(b, dsn)
		if err := s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "bench"}); err != nil {
			b.Fatal(err)
		}
		if err := s.CreateConnection(ctx, store.Connection{TenantID: "t1", ID: "c1", Provider: "p",
			State: store.ConnectionActive}); err != nil {
			b.Fatal(err)
		}
		return s
	}
	event := func(i int) store.Event {
		id := fmt.Sprintf("evt_%d", i)
		return store.Event{TenantID: "t1", ID: id, ConnectionID: "c1", DedupKey: id, Type: "ticket.updated",
			ObjectID: "T-1", ObjectVersion: int64(i), Payload: []byte(`{"id":"T-1","status":"open"}`)}
	}

	b.Run("one_per_tx", func(b *testing.B) {
		s := setup(b)
		i := 0
		for b.Loop() {
			i++
			if _, err := s.InsertEvent(ctx, event(i)); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("100_per_InTx", func(b *testing.B) {
		s := setup(b)
		i := 0
		for b.Loop() {
			err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				for range 100 {
					i++
					if _, err := tx.InsertEvent(ctx, event(i)); err != nil {
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

	b.Run("raw_database_sql", func(b *testing.B) {
		s := setup(b)
		db := stdlib.OpenDBFromPool(s.Driver().(*pgxpool.Pool))
		defer db.Close()
		now := time.Now()
		i := 0
		for b.Loop() {
			i++
			e := event(i)
			if _, err := db.ExecContext(ctx, `INSERT INTO events
				(tenant_id, id, connection_id, dedup_key, type, object_id, object_version, payload, received_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				e.TenantID, e.ID, e.ConnectionID, e.DedupKey, e.Type, e.ObjectID, e.ObjectVersion,
				string(e.Payload), now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
