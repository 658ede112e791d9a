package sqlite

import (
	"context"
	"time"

	"github.com/accordhq/accord/internal/store"
)

func (q *queries) HoldPartner(ctx context.Context, tenantID, provider string, until time.Time) error {
	const op = "holding partner"
	if err := checkTimes(op, until); err != nil {
		return err
	}
	_, err := q.write.ExecContext(ctx, `INSERT INTO partner_holds (tenant_id, provider, until) VALUES (?, ?, ?)
		ON CONFLICT (tenant_id, provider) DO UPDATE SET until = max(partner_holds.until, excluded.until)`,
		tenantID, provider, encTime(until))
	return wrapErr(op, err)
}

func (q *queries) ListPartnerHolds(ctx context.Context, now time.Time) ([]store.PartnerHold, error) {
	const op = "listing partner holds"
	if err := checkTimes(op, now); err != nil {
		return nil, err
	}
	rows, err := q.read.QueryContext(ctx, `SELECT tenant_id, provider, until FROM partner_holds WHERE until > ? ORDER BY until`, encTime(now))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	defer rows.Close()
	var out []store.PartnerHold
	for rows.Next() {
		var h store.PartnerHold
		var until int64
		if err := rows.Scan(&h.TenantID, &h.Provider, &until); err != nil {
			return nil, wrapErr(op, err)
		}
		h.Until = decTime(until)
		out = append(out, h)
	}
	return out, wrapErr(op, rows.Err())
}
