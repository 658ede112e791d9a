package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/accordhq/accord/internal/store/internal/row"
)

// acquireLeaseSQL is one statement: SQLite runs it under the write lock, so
// of racing acquirers (even in other processes) one inserts or takes over
// the row and the others find the WHERE false and get no row back.
const (
	acquireLeaseSQL = `INSERT INTO leases (tenant_id, key, holder, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant_id, key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at < ?
		RETURNING holder`
	releaseLeaseSQL = `DELETE FROM leases WHERE tenant_id = ? AND key = ? AND holder = ?`
)

func (q *queries) AcquireLease(ctx context.Context, tenantID, key, holder string, ttl time.Duration) (bool, error) {
	const op = "acquiring lease"
	if err := row.CheckTTL("sqlite", op, ttl); err != nil {
		return false, err
	}
	now := q.now()
	if err := checkTimes(op, now.Add(ttl)); err != nil {
		return false, err
	}
	var got string
	err := queryRowPrepared(ctx, q.write, acquireLeaseSQL,
		tenantID, key, holder, encTime(now.Add(ttl)), encTime(now)).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // held by another, not expired
	}
	if err != nil {
		return false, wrapErr(op, err)
	}
	return true, nil
}

func (q *queries) ReleaseLease(ctx context.Context, tenantID, key, holder string) error {
	_, err := execPrepared(ctx, q.write, releaseLeaseSQL, tenantID, key, holder)
	return wrapErr("releasing lease", err)
}
