package sqlite

import (
	"context"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

func scanDataKey(s scanner) (store.DataKey, error) {
	var k store.DataKey
	var created, updated int64
	if err := s.Scan(&k.TenantID, &k.MasterKeyID, &k.Wrapped, &created, &updated); err != nil {
		return store.DataKey{}, err
	}
	k.CreatedAt = decTime(created)
	k.UpdatedAt = decTime(updated)
	return k, nil
}

func (q *queries) GetDataKey(ctx context.Context, tenantID string) (store.DataKey, error) {
	k, err := scanDataKey(q.read.QueryRowContext(ctx, `SELECT tenant_id, master_key_id, wrapped, created_at, updated_at
		FROM data_keys WHERE tenant_id = ?`, tenantID))
	if err != nil {
		return store.DataKey{}, wrapErr("getting data key", err)
	}
	return k, nil
}

// PutDataKey keeps the first CreatedAt when it replaces a key: rewrapping
// under a new master key does not make the data key new.
func (q *queries) PutDataKey(ctx context.Context, k store.DataKey) error {
	const op = "putting data key"
	if err := checkTimes(op, k.CreatedAt, k.UpdatedAt); err != nil {
		return err
	}
	now := q.now()
	created := row.OrNow(k.CreatedAt, func() time.Time { return now })
	updated := row.OrNow(k.UpdatedAt, func() time.Time { return now })
	_, err := q.write.ExecContext(ctx, `INSERT INTO data_keys (tenant_id, master_key_id, wrapped, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET
			master_key_id = excluded.master_key_id, wrapped = excluded.wrapped, updated_at = excluded.updated_at`,
		k.TenantID, k.MasterKeyID, k.Wrapped, encTime(created), encTime(updated))
	return wrapErr(op, err)
}

func (q *queries) ListDataKeys(ctx context.Context, afterTenantID string, limit int) ([]store.DataKey, error) {
	rows, err := q.read.QueryContext(ctx, `SELECT tenant_id, master_key_id, wrapped, created_at, updated_at
		FROM data_keys WHERE tenant_id > ? ORDER BY tenant_id LIMIT ?`, afterTenantID, row.Limit(limit))
	if err != nil {
		return nil, wrapErr("listing data keys", err)
	}
	out, err := collect(rows, scanDataKey)
	return out, wrapErr("listing data keys", err)
}
