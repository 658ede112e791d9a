package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/accordhq/accord/internal/store/internal/row"
	"github.com/jackc/pgx/v5"
)

// acquireLeaseSQL is one statement so that racing acquirers are decided by
// the row lock ON CONFLICT takes: a loser either hits the WHERE (held by
// another, not expired) and gets no row back, or waits for the winner's
// insert and then does.
const acquireLeaseSQL = `INSERT INTO leases (tenant_id, key, holder, expires_at) VALUES ($1, $2, $3, $4)
	ON CONFLICT (tenant_id, key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
	WHERE leases.holder = excluded.holder OR leases.expires_at < $5
	RETURNING holder`

func (q *queries) AcquireLease(ctx context.Context, tenantID, key, holder string, ttl time.Duration) (bool, error) {
	const op = "acquiring lease"
	if err := row.CheckTTL("postgres", op, ttl); err != nil {
		return false, err
	}
	now := encTime(q.now())
	var got string
	err := q.coord.QueryRow(ctx, acquireLeaseSQL, tenantID, key, holder, now.Add(ttl), now).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil // held by another, not expired
	}
	if err != nil {
		return false, wrapErr(op, err)
	}
	return true, nil
}

func (q *queries) ReleaseLease(ctx context.Context, tenantID, key, holder string) error {
	_, err := q.coord.Exec(ctx, `DELETE FROM leases WHERE tenant_id = $1 AND key = $2 AND holder = $3`,
		tenantID, key, holder)
	return wrapErr("releasing lease", err)
}

// RenewLease extends only a live lease of holder's: an expired one may have
// been acted on by another already, even if nobody took it.
func (q *queries) RenewLease(ctx context.Context, tenantID, key, holder string, ttl time.Duration) (bool, error) {
	const op = "renewing lease"
	if err := row.CheckTTL("postgres", op, ttl); err != nil {
		return false, err
	}
	now := encTime(q.now())
	tag, err := q.coord.Exec(ctx, `UPDATE leases SET expires_at = $1
		WHERE tenant_id = $2 AND key = $3 AND holder = $4 AND expires_at >= $5`,
		now.Add(ttl), tenantID, key, holder, now)
	n, err := affected(op, tag, err)
	return n == 1, err
}

func (q *queries) ReleaseLeasesHeldBy(ctx context.Context, holder string) (int, error) {
	// One statement: both tables or neither.
	var n int
	err := q.write.QueryRow(ctx, `WITH a AS (DELETE FROM leases WHERE holder = $1 RETURNING 1),
		b AS (DELETE FROM process_leases WHERE holder = $1 RETURNING 1)
		SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b)`, holder).Scan(&n)
	return n, wrapErr("releasing leases held", err)
}

func (q *queries) DeleteExpiredLeases(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := q.write.QueryRow(ctx, `WITH a AS (DELETE FROM leases WHERE expires_at < $1 RETURNING 1),
		b AS (DELETE FROM process_leases WHERE expires_at < $1 RETURNING 1)
		SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b)`, encTime(now)).Scan(&n)
	return n, wrapErr("deleting expired leases", err)
}
