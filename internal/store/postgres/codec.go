package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/accordhq/accord/internal/store/internal/row"
)

// execer is what *pgxpool.Pool and pgx.Tx have in common.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// scanner is a pgx.Row or pgx.Rows.
type scanner = row.Scanner

// wrapErr turns driver errors into the store's (see row.Wrap).
func wrapErr(op string, err error) error {
	return row.Wrap("postgres", op, err, kindOf(err))
}

// kindOf classifies err: no rows, a unique violation, or a foreign key
// violation.
func kindOf(err error) row.Kind {
	if errors.Is(err, pgx.ErrNoRows) {
		return row.NoRows
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return row.Unique
		case "23503": // foreign_key_violation
			return row.ForeignKey
		}
	}
	return row.Other
}

// encTime truncates rather than letting PostgreSQL round, so the value read
// back equals the one SQLite would return.
func encTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func decTime(t time.Time) time.Time { return t.UTC() }

// encOptTime stores the zero time as NULL.
func encOptTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return encTime(t)
}

func decOptTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// collect scans every row and closes rows.
func collect[T any](rows pgx.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	return row.Collect(rows, scan)
}

// oneRow turns a statement that matched nothing into ErrNotFound.
func oneRow(op string, tag pgconn.CommandTag, err error) error {
	if err != nil {
		return wrapErr(op, err)
	}
	if tag.RowsAffected() == 0 {
		return wrapErr(op, pgx.ErrNoRows)
	}
	return nil
}

// affected returns how many rows a statement changed.
func affected(op string, tag pgconn.CommandTag, err error) (int, error) {
	if err != nil {
		return 0, wrapErr(op, err)
	}
	return int(tag.RowsAffected()), nil
}
