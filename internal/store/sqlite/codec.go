package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/accordhq/accord/internal/store/internal/row"
)

// execer is a pool (dbConn) or a transaction (txConn).
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	// prepared returns query as a statement prepared once (see stmtCache),
	// for the hot path.
	prepared(ctx context.Context, query string) (*sql.Stmt, error)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner = row.Scanner

// wrapErr turns driver errors into the store's (see row.Wrap).
func wrapErr(op string, err error) error {
	return row.Wrap("sqlite", op, err, kindOf(err))
}

// kindOf classifies err: no rows, a unique or primary key violation, or a
// foreign key violation.
func kindOf(err error) row.Kind {
	if errors.Is(err, sql.ErrNoRows) {
		return row.NoRows
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return row.Unique
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return row.ForeignKey
		}
	}
	return row.Other
}

// UnixNano covers 1678–2262; outside it the integer would silently wrap.
var (
	minTime = time.Unix(0, -1<<63+1).UTC()
	maxTime = time.Unix(0, 1<<63-1).UTC()
)

// checkTimes rejects timestamps an int64 of nanoseconds cannot hold. Zero
// times are allowed: they are stored as NULL or replaced by the clock.
func checkTimes(op string, ts ...time.Time) error {
	for _, t := range ts {
		if !t.IsZero() && (t.Before(minTime) || t.After(maxTime)) {
			return fmt.Errorf("sqlite: %s: timestamp %s out of range (years 1678–2262)", op, t.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

func encTime(t time.Time) int64 { return t.UTC().Truncate(time.Microsecond).UnixNano() }

func decTime(n int64) time.Time { return time.Unix(0, n).UTC() }

// encOptTime stores the zero time as NULL.
func encOptTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return encTime(t)
}

func decOptTime(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return decTime(n.Int64)
}

// collect scans every row and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	return row.Collect(rows, scan)
}

// oneRow turns an UPDATE that matched nothing into ErrNotFound.
func oneRow(op string, res sql.Result, err error) error {
	if err != nil {
		return wrapErr(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrapErr(op, err)
	}
	if n == 0 {
		return wrapErr(op, sql.ErrNoRows)
	}
	return nil
}

// affected returns how many rows a statement changed.
func affected(op string, res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, wrapErr(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrapErr(op, err)
	}
	return int(n), nil
}
