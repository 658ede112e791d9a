package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

// acquireProcessLeaseSQL is acquireLeaseSQL without a tenant.
const acquireProcessLeaseSQL = `INSERT INTO process_leases (key, holder, expires_at) VALUES ($1, $2, $3)
	ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
	WHERE process_leases.holder = excluded.holder OR process_leases.expires_at < $4
	RETURNING holder`

func (q *queries) AcquireProcessLease(ctx context.Context, key, holder string, ttl time.Duration) (bool, error) {
	const op = "acquiring process lease"
	if err := row.CheckTTL("postgres", op, ttl); err != nil {
		return false, err
	}
	now := encTime(q.now())
	var got string
	err := q.write.QueryRow(ctx, acquireProcessLeaseSQL, key, holder, now.Add(ttl), now).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, wrapErr(op, err)
	}
	return true, nil
}

func (q *queries) ReleaseProcessLease(ctx context.Context, key, holder string) error {
	_, err := q.write.Exec(ctx, `DELETE FROM process_leases WHERE key = $1 AND holder = $2`, key, holder)
	return wrapErr("releasing process lease", err)
}

// ListProcessLeases matches the prefix with starts_with rather than LIKE,
// whose '%' and '_' a key may contain.
func (q *queries) ListProcessLeases(ctx context.Context, keyPrefix string) ([]store.ProcessLease, error) {
	const op = "listing process leases"
	rows, err := q.read.Query(ctx, `SELECT key, holder, expires_at FROM process_leases
		WHERE starts_with(key, $1) AND expires_at >= $2 ORDER BY key`, keyPrefix, encTime(q.now()))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, func(s scanner) (store.ProcessLease, error) {
		var l store.ProcessLease
		var exp time.Time
		err := s.Scan(&l.Key, &l.Holder, &exp)
		l.ExpiresAt = decTime(exp)
		return l, err
	})
	return out, wrapErr(op, err)
}
