package sqlmigrate

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"time"
)

// Executor is a dialect's side of migrating.
type Executor interface {
	// Prepare runs once before any migration, outside a transaction; a
	// dialect whose lock only exists inside a transaction creates
	// accord_migrations in InTx instead and does nothing here.
	Prepare(ctx context.Context) error
	// InTx runs fn in one transaction that holds whatever serialises
	// concurrent migrators, and commits it when fn returns nil. fn's error is
	// returned as is; InTx wraps its own (beginning, locking, committing).
	InTx(ctx context.Context, m Migration, fn func(ctx context.Context, tx Tx) error) error
}

// Tx is the bookkeeping of one migration's transaction.
type Tx interface {
	// Applied reports whether accord_migrations records version.
	Applied(ctx context.Context, version int) (bool, error)
	// Exec runs every statement of a migration file.
	Exec(ctx context.Context, sql string) error
	// Record adds m to accord_migrations.
	Record(ctx context.Context, m Migration, appliedAt time.Time) error
}

// Config configures Run and Apply.
type Config struct {
	// Prefix starts every error message, e.g. "sqlite".
	Prefix string
	// Now stamps applied_at. Default time.Now.
	Now func() time.Time
	// Logger is told of each migration applied. Default slog.Default().
	Logger *slog.Logger
}

// Run loads the migrations in dir of fsys (see Load) and applies them (see
// Apply).
func Run(ctx context.Context, fsys fs.FS, dir string, ex Executor, cfg Config) error {
	ms, err := Load(fsys, dir)
	if err != nil {
		return fmt.Errorf("%s: loading migrations: %w", cfg.Prefix, err)
	}
	return Apply(ctx, ex, ms, cfg)
}

// Apply applies, in order, the migrations of ms not yet recorded, each in
// its own transaction together with its record. Running it again is a
// no-op, and so is losing a race to a concurrent migrator: each migration is
// re-checked inside the transaction that holds the dialect's lock.
func Apply(ctx context.Context, ex Executor, ms []Migration, cfg Config) error {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := ex.Prepare(ctx); err != nil {
		return fmt.Errorf("%s: %w", cfg.Prefix, err)
	}
	for _, m := range ms {
		applied := false
		err := ex.InTx(ctx, m, func(ctx context.Context, tx Tx) error {
			done, err := tx.Applied(ctx, m.Version)
			if err != nil {
				return fmt.Errorf("%s: migration %s: checking: %w", cfg.Prefix, m.Name, err)
			}
			if done {
				return nil
			}
			if err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("%s: migration %s: %w", cfg.Prefix, m.Name, err)
			}
			if err := tx.Record(ctx, m, cfg.Now()); err != nil {
				return fmt.Errorf("%s: migration %s: recording: %w", cfg.Prefix, m.Name, err)
			}
			applied = true
			return nil
		})
		if err != nil {
			return err
		}
		if applied {
			cfg.Logger.Info("applied migration", "migration", m.Name)
		}
	}
	return nil
}
