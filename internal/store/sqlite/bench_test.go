package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/sqlite"
)

// BenchmarkInsertEvent measures durable event inserts (synchronous=FULL):
// one per transaction, 100 per InTx (what group commit buys), and a raw
// database/sql loop on the same connection as the floor the store's own
// overhead sits on.
func BenchmarkInsertEvent(b *testing.B) {
	ctx := context.Background()
	setup := func(b *testing.B) *sqlite.Store {
		s := sqlite.OpenTest(b)
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
		db := s.Driver().(*sql.DB)
		stmt, err := db.PrepareContext(ctx, `INSERT INTO events
			(tenant_id, id, connection_id, dedup_key, type, object_id, object_version, payload, received_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			b.Fatal(err)
		}
		defer stmt.Close()
		i := 0
		for b.Loop() {
			i++
			e := event(i)
			if _, err := stmt.ExecContext(ctx, e.TenantID, e.ID, e.ConnectionID, e.DedupKey, e.Type, e.ObjectID,
				e.ObjectVersion, string(e.Payload), int64(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
