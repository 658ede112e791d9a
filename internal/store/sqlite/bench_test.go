package sqlite_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/sqlite"
	"github.com/accordhq/accord/internal/store/storetest"
)

// BenchmarkInsertEvent measures durable event inserts (synchronous=FULL):
// the store's (storetest.BenchInsertEvent), and a raw database/sql loop on
// the same connection as the floor the store's own overhead sits on.
func BenchmarkInsertEvent(b *testing.B) {
	ctx := context.Background()
	open := func(b *testing.B) store.Store { return sqlite.OpenTest(b) }
	storetest.BenchInsertEvent(b, open)

	b.Run("raw_database_sql", func(b *testing.B) {
		s := storetest.BenchSeeded(b, open)
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
			e := storetest.BenchEvent(i)
			if _, err := stmt.ExecContext(ctx, e.TenantID, e.ID, e.ConnectionID, e.DedupKey, e.Type, e.ObjectID,
				e.ObjectVersion, string(e.Payload), int64(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
