package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"time"

	"github.com/accordhq/accord/internal/store/sqlmigrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrate applies the migrations not yet recorded in accord_migrations,
// each in its own transaction together with its record. Running it again,
// or from two processes at once, is a no-op: the write lock taken at BEGIN
// serialises them and each re-checks inside its transaction.
func (s *Store) Migrate(ctx context.Context) error {
	return sqlmigrate.Run(ctx, migrationFS, "migrations", migrator{s.writer}, s.migrateConfig())
}

func (s *Store) migrateConfig() sqlmigrate.Config {
	return sqlmigrate.Config{Prefix: "sqlite", Now: s.now, Logger: s.cfg.Logger}
}

// migrator is the sqlmigrate.Executor on the writer, whose transactions
// begin IMMEDIATE (see Open): BEGIN itself takes the write lock.
type migrator struct{ db *sql.DB }

func (m migrator) Prepare(ctx context.Context) error {
	if _, err := m.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS accord_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("creating accord_migrations: %w", err)
	}
	return nil
}

func (m migrator) InTx(ctx context.Context, mig sqlmigrate.Migration,
	fn func(ctx context.Context, tx sqlmigrate.Tx) error) error {
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migration %s: beginning: %w", mig.Name, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(ctx, migrationTx{tx}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migration %s: committing: %w", mig.Name, err)
	}
	return nil
}

type migrationTx struct{ tx *sql.Tx }

func (t migrationTx) Applied(ctx context.Context, version int) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM accord_migrations WHERE version = ?`, version).Scan(&n)
	return n > 0, err
}

func (t migrationTx) Exec(ctx context.Context, sql string) error {
	_, err := t.tx.ExecContext(ctx, sql)
	return err
}

func (t migrationTx) Record(ctx context.Context, m sqlmigrate.Migration, appliedAt time.Time) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO accord_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, encTime(appliedAt))
	return err
}
