package sqlite

import (
	"context"

	"github.com/accordhq/accord/internal/store"
)

func (q *queries) SetPartnerStatus(ctx context.Context, s store.PartnerStatus) (bool, error) {
	const op = "setting partner status"
	if err := checkTimes(op, s.ChangedAt); err != nil {
		return false, err
	}
	// The WHERE on the conflict makes the write a compare-and-set: a
	// status already recorded is no change.
	res, err := q.write.ExecContext(ctx, `INSERT INTO partner_status (provider, degraded, reason, changed_at)
		SELECT ?1, ?2, ?3, ?4 WHERE ?2 OR EXISTS (SELECT 1 FROM partner_status WHERE provider = ?1)
		ON CONFLICT (provider) DO UPDATE SET degraded = excluded.degraded, reason = excluded.reason, changed_at = excluded.changed_at
		WHERE partner_status.degraded <> excluded.degraded`,
		s.Provider, s.Degraded, s.Reason, encTime(s.ChangedAt))
	if err != nil {
		return false, wrapErr(op, err)
	}
	n, err := res.RowsAffected()
	return n > 0, wrapErr(op, err)
}

func (q *queries) ListPartnerStatus(ctx context.Context) ([]store.PartnerStatus, error) {
	const op = "listing partner status"
	rows, err := q.read.QueryContext(ctx, `SELECT provider, degraded, reason, changed_at FROM partner_status ORDER BY provider`)
	if err != nil {
		return nil, wrapErr(op, err)
	}
	defer rows.Close()
	var out []store.PartnerStatus
	for rows.Next() {
		var s store.PartnerStatus
		var at int64
		if err := rows.Scan(&s.Provider, &s.Degraded, &s.Reason, &at); err != nil {
			return nil, wrapErr(op, err)
		}
		s.ChangedAt = decTime(at)
		out = append(out, s)
	}
	return out, wrapErr(op, rows.Err())
}
