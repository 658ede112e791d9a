package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/postgres"
	"github.com/accordhq/accord/internal/store/storetest"
)

// BenchmarkInsertEvent measures event inserts: the store's
// (storetest.BenchInsertEvent), and a raw database/sql loop over the same
// pool as the floor the store's own overhead sits on.
func BenchmarkInsertEvent(b *testing.B) {
	dsn := testDSN(b)
	ctx := context.Background()
	open := func(b *testing.B) store.Store { return postgres.OpenTestSchema(b, dsn) }
	storetest.BenchInsertEvent(b, open)

	b.Run("raw_database_sql", func(b *testing.B) {
		s := storetest.BenchSeeded(b, open)
		db := stdlib.OpenDBFromPool(s.Driver().(*pgxpool.Pool))
		defer db.Close()
		now := time.Now()
		i := 0
		for b.Loop() {
			i++
			e := storetest.BenchEvent(i)
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
