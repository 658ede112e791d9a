package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/accordhq/accord/internal/store"
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
type scanner interface {
	Scan(dest ...any) error
}

// wrapErr turns driver errors into the store's: no rows → ErrNotFound,
// unique or primary key violation → ErrConflict, foreign key violation →
// ErrNotFound (the row referred to does not exist).
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrNotFound)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("sqlite: %s: %w: %w", op, store.ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("sqlite: %s: tenant or referenced row missing: %w", op, store.ErrNotFound)
		}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
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

// encJSON stores an empty document as NULL.
func encJSON(m json.RawMessage) any {
	if len(m) == 0 {
		return nil
	}
	return string(m)
}

func decJSON(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return json.RawMessage(b)
}

func orNow(t time.Time, now func() time.Time) time.Time {
	if t.IsZero() {
		return now()
	}
	return t
}

func limitOr(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}
