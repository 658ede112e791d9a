package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

const eventColumns = `tenant_id, id, connection_id, dedup_key, type, object_id, object_version, payload, received_at, state`

const (
	insertEventSQL = `INSERT INTO events (` + eventColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, connection_id, dedup_key) DO NOTHING`
	getEventSQL = `SELECT ` + eventColumns + ` FROM events WHERE tenant_id = ? AND id = ?`
	// setEventsStateSQL takes the refs as one JSON array of [tenant, id]
	// pairs: a single cached statement for any batch size, probing the
	// primary key once per ref.
	setEventsStateSQL = `UPDATE events SET state = ?
		WHERE (tenant_id, id) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))`
	// listPendingEventsSQL names the state literally: SQLite uses the
	// partial index events_pending only for a query whose WHERE implies
	// the index's.
	listPendingEventsSQL = `SELECT ` + eventColumns + ` FROM events
		WHERE state = 'pending' AND received_at < ?
		ORDER BY received_at, tenant_id, id LIMIT ?`
)

func scanEvent(s scanner) (store.Event, error) {
	var e store.Event
	var payload []byte
	var received int64
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
	if err := checkTimes(op, e.ReceivedAt); err != nil {
		return false, err
	}
	state, err := row.EventState("sqlite", op, e.State)
	if err != nil {
		return false, err
	}
	res, err := execPrepared(ctx, q.write, insertEventSQL,
		e.TenantID, e.ID, e.ConnectionID, e.DedupKey, e.Type, e.ObjectID, e.ObjectVersion,
		row.JSON(e.Payload), encTime(row.OrNow(e.ReceivedAt, q.now)), state)
	if err != nil {
		return false, wrapErr(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, wrapErr(op, err)
	}
	return n == 1, nil
}

func (q *queries) GetEvent(ctx context.Context, tenantID, id string) (store.Event, error) {
	e, err := scanEvent(queryRowPrepared(ctx, q.read, getEventSQL, tenantID, id))
	if err != nil {
		return store.Event{}, wrapErr("getting event", err)
	}
	return e, nil
}

func (q *queries) SetEventsState(ctx context.Context, refs []store.EventRef, state string) error {
	const op = "setting events state"
	if err := row.CheckEventState("sqlite", op, state); err != nil {
		return err
	}
	if len(refs) == 0 {
		return nil
	}
	pairs := make([][2]string, len(refs))
	for i, r := range refs {
		pairs[i] = [2]string{r.TenantID, r.ID}
	}
	js, err := json.Marshal(pairs)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	_, err = execPrepared(ctx, q.write, setEventsStateSQL, state, string(js))
	return wrapErr(op, err)
}

// ListPendingEvents treats limit <= 0 as 100. A zero receivedBefore lists
// nothing: no event was received before it.
func (q *queries) ListPendingEvents(ctx context.Context, receivedBefore time.Time, limit int) ([]store.Event, error) {
	const op = "listing pending events"
	if receivedBefore.IsZero() {
		return nil, nil
	}
	if err := checkTimes(op, receivedBefore); err != nil {
		return nil, err
	}
	rows, err := queryPrepared(ctx, q.read, listPendingEventsSQL, encTime(receivedBefore), row.Limit(limit))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanEvent)
	return out, wrapErr(op, err)
}
