package postgres

import (
	"context"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

// The health reads use events_health (tenant_id, connection_id,
// received_at) INCLUDE (state, outcome) and record_errors_list.
const (
	countEventsByHourSQL = `SELECT floor(extract(epoch FROM received_at) / 3600)::bigint, state, outcome, count(*) FROM events
		WHERE tenant_id = $1 AND connection_id = $2 AND received_at >= $3 AND received_at < $4
		GROUP BY 1, 2, 3`
	rolledEventsSQL = `SELECT hour, outcome, events FROM event_rollups
		WHERE tenant_id = $1 AND connection_id = $2 AND hour >= $3 AND hour < $4`
	sealEventsSQL = `INSERT INTO event_rollups (tenant_id, connection_id, hour, outcome, events)
		SELECT $1, $2, h, o, n FROM unnest($3::bigint[], $4::text[], $5::bigint[]) AS r(h, o, n)
		ON CONFLICT DO NOTHING`
	// lastEventWithOutcomeSQL writes the state test so that it does not
	// imply events_done's predicate: with state = 'done', the generic
	// plan pgx's cached statement gets after five runs walks events_done
	// backwards over every tenant's events (200 ms at a million events
	// for a connection with none applied); this way it walks the
	// connection's own events in events_health.
	lastEventWithOutcomeSQL = `SELECT ` + eventColumns + ` FROM events
		WHERE tenant_id = $1 AND connection_id = $2 AND state || '' = 'done' AND outcome = $3
		ORDER BY received_at DESC LIMIT 1`
	countRecordErrorsSQL = `SELECT class, count(*) FROM record_errors
		WHERE tenant_id = $1 AND installation_id = $2 AND ($3 = '' OR status = $3)
		GROUP BY class`
)

// CountEvents reads whole settled hours from event_rollups (see
// row.CountEvents) and the rest from events_health.
func (q *queries) CountEvents(ctx context.Context, tenantID, connectionID string, since time.Time) (store.EventCounts, error) {
	const op = "counting events"
	out, err := row.CountEvents(since, q.now(), q.rollupIO(ctx, tenantID, connectionID))
	return out, wrapErr(op, err)
}

// CountEventsByHour is CountEvents hour by hour.
func (q *queries) CountEventsByHour(ctx context.Context, tenantID, connectionID string, since time.Time) ([]store.EventHour, error) {
	const op = "counting events by hour"
	rows, err := row.EventsByHour(since, q.now(), q.rollupIO(ctx, tenantID, connectionID))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	return row.ByHour(rows), nil
}

// rollupIO reads and seals one connection's hourly counts.
func (q *queries) rollupIO(ctx context.Context, tenantID, connectionID string) row.RollupIO {
	return row.RollupIO{
		Raw: func(from, to time.Time) ([]row.HourCount, error) {
			rows, err := q.read.Query(ctx, countEventsByHourSQL, tenantID, connectionID, encTime(from), encTime(to))
			if err != nil {
				return nil, err
			}
			return collect(rows, func(s scanner) (row.HourCount, error) {
				var c row.HourCount
				return c, s.Scan(&c.Hour, &c.State, &c.Outcome, &c.N)
			})
		},
		Rolled: func(fromHour, toHour int64) ([]row.HourCount, error) {
			rows, err := q.read.Query(ctx, rolledEventsSQL, tenantID, connectionID, fromHour, toHour)
			if err != nil {
				return nil, err
			}
			return collect(rows, func(s scanner) (row.HourCount, error) {
				c := row.HourCount{State: store.EventDone}
				return c, s.Scan(&c.Hour, &c.Outcome, &c.N)
			})
		},
		Seal: func(rows []row.HourCount) error {
			hours, outcomes, counts := make([]int64, len(rows)), make([]string, len(rows)), make([]int64, len(rows))
			for i, r := range rows {
				hours[i], outcomes[i], counts[i] = r.Hour, r.Outcome, int64(r.N)
			}
			_, err := q.write.Exec(ctx, sealEventsSQL, tenantID, connectionID, hours, outcomes, counts)
			return err
		},
	}
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
