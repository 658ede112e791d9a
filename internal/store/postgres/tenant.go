package postgres

import (
	"context"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

func (q *queries) CreateTenant(ctx context.Context, t store.Tenant) error {
	_, err := q.write.Exec(ctx,
		`INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)`,
		t.ID, t.Name, encTime(row.OrNow(t.CreatedAt, q.now)))
	return wrapErr("creating tenant", err)
}

func (q *queries) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	var t store.Tenant
	var created time.Time
	err := q.read.QueryRow(ctx,
		`SELECT id, name, created_at FROM tenants WHERE id = $1`, id).Scan(&t.ID, &t.Name, &created)
	if err != nil {
		return store.Tenant{}, wrapErr("getting tenant", err)
	}
	t.CreatedAt = decTime(created)
	return t, nil
}

func (q *queries) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	rows, err := q.read.Query(ctx, `SELECT id, name, created_at FROM tenants ORDER BY id`)
	if err != nil {
		return nil, wrapErr("listing tenants", err)
	}
	defer rows.Close()
	var out []store.Tenant
	for rows.Next() {
		var t store.Tenant
		var created time.Time
		if err := rows.Scan(&t.ID, &t.Name, &created); err != nil {
			return nil, wrapErr("listing tenants", err)
		}
		t.CreatedAt = decTime(created)
		out = append(out, t)
	}
	return out, wrapErr("listing tenants", rows.Err())
}
