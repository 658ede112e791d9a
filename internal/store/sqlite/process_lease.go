package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

// acquireProcessLeaseSQL is acquireLeaseSQL without a tenant.
const acquireProcessLeaseSQL = `INSERT INTO process_leases (key, holder, expires_at) VALUES (?, ?, ?)
	ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
	WHERE process_leases.holder = excluded.holder OR process_leases.expires_at < ?
	RETURNING holder`

func (q *queries) AcquireProcessLease(ctx context.Context, key, holder string, ttl time.Duration) (bool, error) {
	const op = "acquiring process lease"
	if err := row.CheckTTL("sqlite", op, ttl); err != nil {
		return false, err
	}
	now := q.now()
	if err := checkTimes(op, now.Add(ttl)); err != nil {
		return false, err
	}
	var got string
	err := q.write.QueryRowContext(ctx, acquireProcessLeaseSQL, key, holder, encTime(now.Add(ttl)), encTime(now)).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, wrapErr(op, err)
	}
	return true, nil
}

func (q *queries) ReleaseProcessLease(ctx context.Context, key, holder string) error {
	_, err := q.write.ExecContext(ctx, `DELETE FROM process_leases WHERE key = ? AND holder = ?`, key, holder)
	return wrapErr("releasing process lease", err)
}

// ListProcessLeases matches the prefix with substr rather than LIKE, whose
// '%' and '_' a key may contain.
func (q *queries) ListProcessLeases(ctx context.Context, keyPrefix string) ([]store.ProcessLease, error) {
	const op = "listing process leases"
	rows, err := q.read.QueryContext(ctx, `SELECT key, holder, expires_at FROM process_leases
		WHERE substr(key, 1, length(?1)) = ?1 AND expires_at >= ?2 ORDER BY key`, keyPrefix, encTime(q.now()))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, func(s scanner) (store.ProcessLease, error) {
		var l store.ProcessLease
		var exp int64
		err := s.Scan(&l.Key, &l.Holder, &exp)
		l.ExpiresAt = decTime(exp)
		return l, err
	})
	if err != nil {
		return nil, wrapErr(op, err)
	}
	return out, nil
}
