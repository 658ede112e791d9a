package postgres

import (
	"context"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

const eventColumns = `tenant_id, id, connection_id, dedup_key, type, object_id, object_version, payload, received_at,
	state, outcome`

const (
	// setEventsStateSQL joins the refs as three parallel arrays: one
	// statement (prepared once per connection by pgx) for any batch size.
	// It moves an event only to a state of a higher rank (see
	// row.EventRank): $2 is the target's rank, so done never goes back. A
	// racing update is re-checked against the row it waited for (READ
	// COMMITTED re-evaluates the WHERE). The outcome is written with done
	// only.
	setEventsStateSQL = `UPDATE events AS e SET state = $1,
			outcome = CASE WHEN $1 = 'done' THEN r.outcome ELSE e.outcome END,
			done_at = CASE WHEN $1 = 'done' THEN $6::timestamptz ELSE e.done_at END
		FROM unnest($3::text[], $4::text[], $5::text[]) AS r (tenant_id, id, outcome)
		WHERE e.tenant_id = r.tenant_id AND e.id = r.id
			AND CASE e.state WHEN 'pending' THEN 0 WHEN 'queued' THEN 1 ELSE 2 END < $2`
	// claimPendingEventsSQL skips rows another claimer has locked, and the
	// outer state check drops a row another claimer moved meanwhile (READ
	// COMMITTED re-evaluates it): each event goes to one claimer.
	// The batch is picked in a CTE: a subquery under IN may be planned as
	// a join that runs the LIMIT more than once (seen: a limit of 1
	// claimed 2); a CTE with FOR UPDATE is evaluated once.
	claimPendingEventsSQL = `WITH batch AS (
			SELECT tenant_id, id FROM events WHERE state = 'pending' AND received_at < $1
			ORDER BY received_at, tenant_id, id LIMIT $2 FOR UPDATE SKIP LOCKED)
		UPDATE events AS e SET state = 'queued' FROM batch
		WHERE e.tenant_id = batch.tenant_id AND e.id = batch.id AND e.state = 'pending'
		RETURNING e.tenant_id, e.id, e.connection_id, e.dedup_key, e.type, e.object_id, e.object_version, e.payload,
			e.received_at, e.state, e.outcome`
	deleteDoneEventsSQL = `WITH batch AS (
			SELECT tenant_id, id FROM events WHERE state = 'done' AND received_at < $1
			ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED)
		DELETE FROM events AS e USING batch WHERE e.tenant_id = batch.tenant_id AND e.id = batch.id`
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
	state, err := row.EventState("postgres", op, e.State)
	if err != nil {
		return false, err
	}
	tag, err := q.write.Exec(ctx, `INSERT INTO events (`+eventColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (tenant_id, connection_id, dedup_key) DO NOTHING`,
		e.TenantID, e.ID, e.ConnectionID, e.DedupKey, e.Type, e.ObjectID, e.ObjectVersion,
		row.JSON(e.Payload), encTime(row.OrNow(e.ReceivedAt, q.now)), state, e.Outcome)
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

func (q *queries) SetEventsState(ctx context.Context, refs []store.EventRef, state store.EventState) error {
	const op = "setting events state"
	if err := row.CheckEventState("postgres", op, state); err != nil {
		return err
	}
	if len(refs) == 0 {
		return nil
	}
	tenants := make([]string, len(refs))
	ids := make([]string, len(refs))
	outcomes := make([]string, len(refs))
	for i, r := range refs {
		tenants[i], ids[i], outcomes[i] = r.TenantID, r.ID, r.Outcome
	}
	_, err := q.write.Exec(ctx, setEventsStateSQL, string(state), row.EventRank(state), tenants, ids, outcomes, encTime(q.now()))
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

func (q *queries) ClaimPendingEvents(ctx context.Context, receivedBefore time.Time, limit int) ([]store.Event, error) {
	const op = "claiming pending events"
	if receivedBefore.IsZero() {
		return nil, nil
	}
	rows, err := q.write.Query(ctx, claimPendingEventsSQL, encTime(receivedBefore), row.Limit(limit))
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
	if before.IsZero() {
		return 0, nil
	}
	tag, err := q.write.Exec(ctx, deleteDoneEventsSQL, encTime(before), row.Limit(limit))
	return affected("deleting done events", tag, err)
}
