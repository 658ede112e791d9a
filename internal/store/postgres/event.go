package postgres

import (
	"context"
	"time"

	"github.com/accordhq/accord/internal/store"
)

const eventColumns = `tenant_id, id, connection_id, dedup_key, type, object_id, object_version, payload, received_at`

func scanEvent(s scanner) (store.Event, error) {
	var e store.Event
	var payload []byte
	var received time.Time
	if err := s.Scan(&e.TenantID, &e.ID, &e.ConnectionID, &e.DedupKey, &e.Type, &e.ObjectID, &e.ObjectVersion,
		&payload, &received); err != nil {
		return store.Event{}, err
	}
	e.Payload = decJSON(payload)
	e.ReceivedAt = decTime(received)
	return e, nil
}

// InsertEvent names the dedup key as the conflict target: a repeat delivery
// is skipped, but a clash on the event id is still an ErrConflict.
func (q *queries) InsertEvent(ctx context.Context, e store.Event) (bool, error) {
	const op = "inserting event"
	tag, err := q.write.Exec(ctx, `INSERT INTO events (`+eventColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (tenant_id, connection_id, dedup_key) DO NOTHING`,
		e.TenantID, e.ID, e.ConnectionID, e.DedupKey, e.Type, e.ObjectID, e.ObjectVersion,
		encJSON(e.Payload), encTime(orNow(e.ReceivedAt, q.now)))
	if err != nil {
		return false, wrapErr(op, err)
	}
	return tag.RowsAffected() == 1, nil
}

func (q *queries) GetEvent(ctx context.Context, tenantID, id string) (store.Event, error) {
	e, err := scanEvent(q.read.QueryRow(ctx,
		`SELECT `+eventColumns+` FROM events WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return store.Event{}, wrapErr("getting event", err)
	}
	return e, nil
}
