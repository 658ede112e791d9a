package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/sqlite"
)

// linkBench is a store with one tenant, connection and installation, and n
// links T-0…T-(n-1) already written.
func linkBench(b *testing.B, n int) *sqlite.Store {
	b.Helper()
	ctx := context.Background()
	s := sqlite.OpenTest(b)
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "bench"}))
	must(s.CreateConnection(ctx, store.Connection{TenantID: "t1", ID: "c1", Provider: "p",
		State: store.ConnectionActive}))
	must(s.CreateInstallation(ctx, store.Installation{TenantID: "t1", ID: "i1", Contract: "c",
		ContractVersion: "1", State: store.InstallationActive, Connections: map[string]string{"p": "c1"}}))
	must(s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		for i := range n {
			if err := tx.UpsertLink(ctx, benchLink(i, 1)); err != nil {
				return err
			}
		}
		return nil
	}))
	return s
}

var benchFields = json.RawMessage(`{"title":"Printer on fire","status":"open","priority":2}`)

func benchLink(i int, version int64) store.Link {
	return store.Link{LinkKey: store.LinkKey{TenantID: "t1", InstallationID: "i1", SourceObject: "ticket",
		SourceID: fmt.Sprintf("T-%d", i), TargetObject: "incident"},
		TargetID: fmt.Sprintf("INC-%d", i), Version: version, Fields: benchFields}
}

const benchLinks = 1000

// BenchmarkGetLink measures the engine's per-event link read, through the
// store's read pool and as a raw prepared database/sql query (the floor).
func BenchmarkGetLink(b *testing.B) {
	ctx := context.Background()
	b.Run("store", func(b *testing.B) {
		s := linkBench(b, benchLinks)
		i := 0
		for b.Loop() {
			i++
			if _, err := s.GetLink(ctx, benchLink(i%benchLinks, 0).LinkKey); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw_database_sql", func(b *testing.B) {
		s := linkBench(b, benchLinks)
		stmt, err := s.Driver().(*sql.DB).PrepareContext(ctx, `SELECT target_id, version, fields, updated_at
			FROM links WHERE tenant_id = ? AND installation_id = ? AND source_object = ? AND source_id = ?
			AND target_object = ?`)
		if err != nil {
			b.Fatal(err)
		}
		defer stmt.Close()
		i := 0
		for b.Loop() {
			i++
			k := benchLink(i%benchLinks, 0).LinkKey
			var target string
			var version, updated int64
			var fields []byte
			if err := stmt.QueryRowContext(ctx, k.TenantID, k.InstallationID, k.SourceObject, k.SourceID,
				k.TargetObject).Scan(&target, &version, &fields, &updated); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkUpsertLink measures the engine's per-event link write: one per
// transaction (synchronous=FULL, so dominated by fsync), 100 per InTx (the
// statement overhead shows), and a raw prepared loop inside one
// transaction per 100 as the floor for the latter.
func BenchmarkUpsertLink(b *testing.B) {
	ctx := context.Background()
	b.Run("one_per_tx", func(b *testing.B) {
		s := linkBench(b, benchLinks)
		i := 0
		for b.Loop() {
			i++
			if err := s.UpsertLink(ctx, benchLink(i%benchLinks, int64(i))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("100_per_InTx", func(b *testing.B) {
		s := linkBench(b, benchLinks)
		i := 0
		for b.Loop() {
			err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				for range 100 {
					i++
					if err := tx.UpsertLink(ctx, benchLink(i%benchLinks, int64(i))); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/link")
	})
	b.Run("raw_100_per_tx", func(b *testing.B) {
		s := linkBench(b, benchLinks)
		db := s.Driver().(*sql.DB)
		stmt, err := db.PrepareContext(ctx, `INSERT INTO links
			(tenant_id, installation_id, source_object, source_id, target_object, target_id, version, fields, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, installation_id, source_object, source_id, target_object) DO UPDATE SET
				target_id = excluded.target_id, version = excluded.version,
				fields = excluded.fields, updated_at = excluded.updated_at`)
		if err != nil {
			b.Fatal(err)
		}
		defer stmt.Close()
		i := 0
		for b.Loop() {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			ts := tx.StmtContext(ctx, stmt)
			for range 100 {
				i++
				l := benchLink(i%benchLinks, int64(i))
				if _, err := ts.ExecContext(ctx, l.TenantID, l.InstallationID, l.SourceObject, l.SourceID,
					l.TargetObject, l.TargetID, l.Version, string(l.Fields), int64(i)); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/link")
	})
}
