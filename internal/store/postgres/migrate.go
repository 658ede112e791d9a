package postgres

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accordhq/accord/internal/store/sqlmigrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrate applies the migrations not yet recorded in accord_migrations,
// each in its own transaction together with its record. Running it again is
// a no-op, and processes migrating at once queue on an advisory lock (one
// per schema) and each re-check inside their transaction.
func (s *Store) Migrate(ctx context.Context) error {
	return sqlmigrate.Run(ctx, migrationFS, "migrations", migrator{s.pool},
		sqlmigrate.Config{Prefix: "postgres", Now: s.now, Logger: s.cfg.Logger})
}

// migrator is the sqlmigrate.Executor on the pool. The advisory lock is
// transaction-scoped, so accord_migrations is created under it, in InTx:
// concurrent CREATE TABLE IF NOT EXISTS can otherwise fail.
type migrator struct{ pool *pgxpool.Pool }

func (migrator) Prepare(context.Context) error { return nil }

func (m migrator) InTx(ctx context.Context, mig sqlmigrate.Migration,
	fn func(ctx context.Context, tx sqlmigrate.Tx) error) error {
	return pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx,
			`SELECT pg_advisory_xact_lock(hashtextextended('accord_migrations.' || current_schema(), 0))`); err != nil {
			return fmt.Errorf("postgres: migration %s: locking: %w", mig.Name, err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS accord_migrations (
			version    integer     NOT NULL PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL
		)`); err != nil {
			return fmt.Errorf("postgres: creating accord_migrations: %w", err)
		}
		return fn(ctx, migrationTx{tx})
	})
}

type migrationTx struct{ tx pgx.Tx }

func (t migrationTx) Applied(ctx context.Context, version int) (bool, error) {
	var n int
	err := t.tx.QueryRow(ctx, `SELECT count(*) FROM accord_migrations WHERE version = $1`, version).Scan(&n)
	return n > 0, err
}

// Exec passes no arguments: pgx then sends the file with the simple
// protocol, which runs every statement of it.
func (t migrationTx) Exec(ctx context.Context, sql string) error {
	_, err := t.tx.Exec(ctx, sql)
	return err
}

func (t migrationTx) Record(ctx context.Context, m sqlmigrate.Migration, appliedAt time.Time) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO accord_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.Version, m.Name, encTime(appliedAt))
	return err
}
