package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

const eventColumns = `tenant_id, id, connection_id, dedup_key, type, object_id, object_version, payload, received_at,
	state, outcome`

const (
	insertEventSQL = `INSERT INTO events (` + eventColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, connection_id, dedup_key) DO NOTHING`
	getEventSQL = `SELECT ` + eventColumns + ` FROM events WHERE tenant_id = ? AND id = ?`
	// setEventsStateSQL takes the refs as one JSON array of [tenant, id,
	// outcome] triples: a single cached statement for any batch size,
	// probing the primary key once per ref. It moves an event only to a
	// state of a higher rank (see row.EventRank): ?2 is the target's rank,
	// so done never goes back. The outcome and done_at (?4, now) are
	// written with done only.
	setEventsStateSQL = `UPDATE events SET state = ?1,
			outcome = CASE WHEN ?1 = 'done' THEN r.outcome ELSE events.outcome END,
			done_at = CASE WHEN ?1 = 'done' THEN ?4 ELSE events.done_at END
		FROM (SELECT json_extract(value, '$[0]') AS tenant_id, json_extract(value, '$[1]') AS id,
				json_extract(value, '$[2]') AS outcome
			FROM json_each(?3)) AS r
		WHERE events.tenant_id = r.tenant_id AND events.id = r.id
			AND CASE events.state WHEN 'pending' THEN 0 WHEN 'queued' THEN 1 ELSE 2 END < ?2`
	// claimPendingEventsSQL runs under the single writer's lock, so two
	// claimers (in this process or another) never see the same pending
	// row; the outer state check says so even without that. RETURNING
	// has no order: the caller sorts.
	claimPendingEventsSQL = `UPDATE events SET state = 'queued'
		WHERE state = 'pending' AND (tenant_id, id) IN (
			SELECT tenant_id, id FROM events WHERE state = 'pending' AND received_at < ?
			ORDER BY received_at, tenant_id, id LIMIT ?)
		RETURNING ` + eventColumns
	deleteDoneEventsSQL = `DELETE FROM events WHERE (tenant_id, id) IN (
			SELECT tenant_id, id FROM events WHERE state = 'done' AND received_at < ?
			ORDER BY received_at LIMIT ?)`
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
		&payload, &received, &e.State, &e.Outcome); err != nil {
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
		row.JSON(e.Payload), encTime(row.OrNow(e.ReceivedAt, q.now)), state, e.Outcome)
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

func (q *queries) SetEventsState(ctx context.Context, refs []store.EventRef, state store.EventState) error {
	const op = "setting events state"
	if err := row.CheckEventState("sqlite", op, state); err != nil {
		return err
	}
	if len(refs) == 0 {
		return nil
	}
	triples := make([][3]string, len(refs))
	for i, r := range refs {
		triples[i] = [3]string{r.TenantID, r.ID, r.Outcome}
	}
	js, err := json.Marshal(triples)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	_, err = execPrepared(ctx, q.write, setEventsStateSQL, string(state), row.EventRank(state), string(js), encTime(q.now()))
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

func (q *queries) ClaimPendingEvents(ctx context.Context, receivedBefore time.Time, limit int) ([]store.Event, error) {
	const op = "claiming pending events"
	if receivedBefore.IsZero() {
		return nil, nil
	}
	if err := checkTimes(op, receivedBefore); err != nil {
		return nil, err
	}
	rows, err := queryPrepared(ctx, q.write, claimPendingEventsSQL, encTime(receivedBefore), row.Limit(limit))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanEvent)
	if err != nil {
		return nil, wrapErr(op, err)
	}
	row.SortEvents(out)
	return out, nil
}

func (q *queries) DeleteDoneEventsBefore(ctx context.Context, before time.Time, limit int) (int, error) {
	const op = "deleting done events"
	if before.IsZero() {
		return 0, nil
	}
	if err := checkTimes(op, before); err != nil {
		return 0, err
	}
	res, err := execPrepared(ctx, q.write, deleteDoneEventsSQL, encTime(before), row.Limit(limit))
	return affected(op, res, err)
}
