package postgres

import (
	"context"
	"time"

	"github.com/accordhq/accord/internal/store"
)

// The health reads use events_health (tenant_id, connection_id,
// received_at) INCLUDE (state, outcome) and record_errors_list.
const (
	countEventsSQL = `SELECT state, outcome, count(*) FROM events
		WHERE tenant_id = $1 AND connection_id = $2 AND received_at >= $3
		GROUP BY state, outcome`
	lastEventWithOutcomeSQL = `SELECT ` + eventColumns + ` FROM events
		WHERE tenant_id = $1 AND connection_id = $2 AND state = 'done' AND outcome = $3
		ORDER BY received_at DESC LIMIT 1`
	countRecordErrorsSQL = `SELECT class, count(*) FROM record_errors
		WHERE tenant_id = $1 AND installation_id = $2 AND ($3 = '' OR status = $3)
		GROUP BY class`
)

func (q *queries) CountEvents(ctx context.Context, tenantID, connectionID string, since time.Time) (store.EventCounts, error) {
	const op = "counting events"
	rows, err := q.read.Query(ctx, countEventsSQL, tenantID, connectionID, encTime(since))
	if err != nil {
		return store.EventCounts{}, wrapErr(op, err)
	}
	defer rows.Close()
	out := store.EventCounts{Outcomes: map[string]int{}}
	for rows.Next() {
		var state, outcome string
		var n int
		if err := rows.Scan(&state, &outcome, &n); err != nil {
			return store.EventCounts{}, wrapErr(op, err)
		}
		if store.EventState(state) == store.EventDone {
			out.Outcomes[outcome] += n
		} else {
			out.InFlight += n
		}
	}
	return out, wrapErr(op, rows.Err())
}

func (q *queries) LastEventWithOutcome(ctx context.Context, tenantID, connectionID, outcome string) (store.Event, error) {
	e, err := scanEvent(q.read.QueryRow(ctx, lastEventWithOutcomeSQL, tenantID, connectionID, outcome))
	if err != nil {
		return store.Event{}, wrapErr("getting last event", err)
	}
	return e, nil
}

func (q *queries) CountRecordErrors(ctx context.Context, tenantID, installationID string, status store.RecordErrorStatus) (map[string]int, error) {
	const op = "counting record errors"
	rows, err := q.read.Query(ctx, countRecordErrorsSQL, tenantID, installationID, string(status))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var class string
		var n int
		if err := rows.Scan(&class, &n); err != nil {
			return nil, wrapErr(op, err)
		}
		out[class] = n
	}
	return out, wrapErr(op, rows.Err())
}
