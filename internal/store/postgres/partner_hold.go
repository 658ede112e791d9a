package postgres

import (
	"context"
	"time"

	"github.com/accordhq/accord/internal/store"
)

func (q *queries) HoldPartner(ctx context.Context, tenantID, provider string, until time.Time) error {
	_, err := q.write.Exec(ctx, `INSERT INTO partner_holds (tenant_id, provider, until) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id, provider) DO UPDATE SET until = greatest(partner_holds.until, excluded.until)`,
		tenantID, provider, encTime(until))
	return wrapErr("holding partner", err)
}

func (q *queries) ListPartnerHolds(ctx context.Context, now time.Time) ([]store.PartnerHold, error) {
	const op = "listing partner holds"
	rows, err := q.read.Query(ctx, `SELECT tenant_id, provider, until FROM partner_holds WHERE until > $1 ORDER BY until`, encTime(now))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	defer rows.Close()
	var out []store.PartnerHold
	for rows.Next() {
		var h store.PartnerHold
		var until time.Time
		if err := rows.Scan(&h.TenantID, &h.Provider, &until); err != nil {
			return nil, wrapErr(op, err)
		}
		h.Until = decTime(until)
		out = append(out, h)
	}
	return out, wrapErr(op, rows.Err())
}
