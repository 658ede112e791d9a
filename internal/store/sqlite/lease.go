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
	// renewLeaseSQL extends only a live lease of holder's: an expired one
	// may have been acted on by another already, even if nobody took it.
	renewLeaseSQL = `UPDATE leases SET expires_at = ?
		WHERE tenant_id = ? AND key = ? AND holder = ? AND expires_at >= ?`
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

func (q *queries) RenewLease(ctx context.Context, tenantID, key, holder string, ttl time.Duration) (bool, error) {
	const op = "renewing lease"
	if err := row.CheckTTL("sqlite", op, ttl); err != nil {
		return false, err
	}
	now := q.now()
	if err := checkTimes(op, now.Add(ttl)); err != nil {
		return false, err
	}
	res, err := execPrepared(ctx, q.write, renewLeaseSQL, encTime(now.Add(ttl)), tenantID, key, holder, encTime(now))
	n, err := affected(op, res, err)
	return n == 1, err
}

// ReleaseLeasesHeldBy is two statements; on the Store, not a Tx, a crash
// between them leaves process leases to expire on their own.
func (q *queries) ReleaseLeasesHeldBy(ctx context.Context, holder string) (int, error) {
	const op = "releasing leases held"
	res, err := q.write.ExecContext(ctx, `DELETE FROM leases WHERE holder = ?`, holder)
	n, err := affected(op, res, err)
	if err != nil {
		return 0, err
	}
	res, err = q.write.ExecContext(ctx, `DELETE FROM process_leases WHERE holder = ?`, holder)
	m, err := affected(op, res, err)
	return n + m, err
}

func (q *queries) DeleteExpiredLeases(ctx context.Context, now time.Time) (int, error) {
	const op = "deleting expired leases"
	if err := checkTimes(op, now); err != nil {
		return 0, err
	}
	res, err := q.write.ExecContext(ctx, `DELETE FROM leases WHERE expires_at < ?`, encTime(now))
	n, err := affected(op, res, err)
	if err != nil {
		return 0, err
	}
	res, err = q.write.ExecContext(ctx, `DELETE FROM process_leases WHERE expires_at < ?`, encTime(now))
	m, err := affected(op, res, err)
	return n + m, err
}
