package postgres

import (
	"context"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

const eventColumns = `tenant_id, id, connection_id, dedup_key, type, object_id, object_version, payload, received_at, state`

const (
	// setEventsStateSQL joins the refs as two parallel arrays: one
	// statement (prepared once per connection by pgx) for any batch size.
	setEventsStateSQL = `UPDATE events AS e SET state = $1
		FROM unnest($2::text[], $3::text[]) AS r (tenant_id, id)
		WHERE e.tenant_id = r.tenant_id AND e.id = r.id`
	// listPendingEventsSQL names the state literally so that every plan,
	// generic ones included, can use the partial index events_pending.
	listPendingEventsSQL = `SELECT ` + eventColumns + ` FROM events
		WHERE state = 'pending' AND received_at < $1
		ORDER BY received_at, tenant_id, id LIMIT $2`
)

func scanEvent(s scanner) (store.Event, error) {
	var e store.Event
	var payload []byte
	var received time.Time
	if err := s.Scan(&e.TenantID, &e.ID, &e.ConnectionID, &e.DedupKey, &e.Type, &e.ObjectID, &e.ObjectVersion,
		&payload, &received, &e.State); err != nil {
		return store.Event{}, err
	}
	e.Payload = row.DecodeJSON(payload)
	e.ReceivedAt = decTime(received)
	return e, nil
}

// InsertEvent names the dedup key as the conflict target: a repeat delivery
// is skipped, but a clash on the event id is still an ErrConflict.
func (q *queries) InsertEvent(ctx context.Context, e store.Event) (bool, error) {
	const op = "inserting event"
	state, err := row.EventState("postgres", op, e.State)
	if err != nil {
		return false, err
	}
	tag, err := q.write.Exec(ctx, `INSERT INTO events (`+eventColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (tenant_id, connection_id, dedup_key) DO NOTHING`,
		e.TenantID, e.ID, e.ConnectionID, e.DedupKey, e.Type, e.ObjectID, e.ObjectVersion,
		row.JSON(e.Payload), encTime(row.OrNow(e.ReceivedAt, q.now)), state)
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

func (q *queries) SetEventsState(ctx context.Context, refs []store.EventRef, state string) error {
	const op = "setting events state"
	if err := row.CheckEventState("postgres", op, state); err != nil {
		return err
	}
	if len(refs) == 0 {
		return nil
	}
	tenants := make([]string, len(refs))
	ids := make([]string, len(refs))
	for i, r := range refs {
		tenants[i], ids[i] = r.TenantID, r.ID
	}
	_, err := q.write.Exec(ctx, setEventsStateSQL, state, tenants, ids)
	return wrapErr(op, err)
}

// ListPendingEvents treats limit <= 0 as 100. A zero receivedBefore lists
// nothing: no event was received before it.
func (q *queries) ListPendingEvents(ctx context.Context, receivedBefore time.Time, limit int) ([]store.Event, error) {
	const op = "listing pending events"
	if receivedBefore.IsZero() {
		return nil, nil
	}
	rows, err := q.read.Query(ctx, listPendingEventsSQL, encTime(receivedBefore), row.Limit(limit))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanEvent)
	return out, wrapErr(op, err)
}
