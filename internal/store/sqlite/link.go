package sqlite

import (
	"context"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

const (
	getLinkSQL = `SELECT target_id, version, event_id, event_at, fields, updated_at FROM links
		WHERE tenant_id = ? AND installation_id = ? AND source_object = ? AND source_id = ? AND target_object = ?`
	upsertLinkSQL = `INSERT INTO links
		(tenant_id, installation_id, source_object, source_id, target_object, target_id, version, event_id, event_at, fields, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, installation_id, source_object, source_id, target_object) DO UPDATE SET
			target_id = excluded.target_id, version = excluded.version,
			event_id = excluded.event_id, event_at = excluded.event_at,
			fields = excluded.fields, updated_at = excluded.updated_at`
)

func (q *queries) GetLink(ctx context.Context, key store.LinkKey) (store.Link, error) {
	l := store.Link{LinkKey: key}
	var fields []byte
	var updated int64
	err := queryRowPrepared(ctx, q.read, getLinkSQL,
		key.TenantID, key.InstallationID, key.SourceObject, key.SourceID, key.TargetObject,
	).Scan(&l.TargetID, &l.Version, &l.EventID, &l.EventAt, &fields, &updated)
	if err != nil {
		return store.Link{}, wrapErr("getting link", err)
	}
	l.Fields = row.DecodeJSON(fields)
	l.UpdatedAt = decTime(updated)
	return l, nil
}

func (q *queries) UpsertLink(ctx context.Context, l store.Link) error {
	const op = "upserting link"
	if err := checkTimes(op, l.UpdatedAt); err != nil {
		return err
	}
	_, err := execPrepared(ctx, q.write, upsertLinkSQL,
		l.TenantID, l.InstallationID, l.SourceObject, l.SourceID, l.TargetObject, l.TargetID, l.Version, l.EventID, l.EventAt,
		row.JSON(l.Fields), encTime(row.OrNow(l.UpdatedAt, q.now)))
	return wrapErr(op, err)
}
