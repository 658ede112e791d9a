package sqlite

import (
	"context"
	"encoding/json"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

// The health reads use events_health (tenant_id, connection_id,
// received_at, state, outcome) and record_errors_list.
const (
	// countEventsByHourSQL: received_at is Unix nanoseconds.
	countEventsByHourSQL = `SELECT received_at / 3600000000000, state, outcome, count(*) FROM events
		WHERE tenant_id = ? AND connection_id = ? AND received_at >= ? AND received_at < ?
		GROUP BY 1, 2, 3`
	rolledEventsSQL = `SELECT hour, outcome, events FROM event_rollups
		WHERE tenant_id = ? AND connection_id = ? AND hour >= ? AND hour < ?`
	// sealEventsSQL takes the rows as one JSON array of [hour, outcome,
	// events]; "WHERE true" lets SQLite parse the upsert after a SELECT.
	sealEventsSQL = `INSERT INTO event_rollups (tenant_id, connection_id, hour, outcome, events)
		SELECT ?1, ?2, json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]')
		FROM json_each(?3) WHERE true
		ON CONFLICT DO NOTHING`
	lastEventWithOutcomeSQL = `SELECT ` + eventColumns + ` FROM events
		WHERE tenant_id = ? AND connection_id = ? AND state = 'done' AND outcome = ?
		ORDER BY received_at DESC LIMIT 1`
	countRecordErrorsSQL = `SELECT class, count(*) FROM record_errors
		WHERE tenant_id = ? AND installation_id = ? AND (? = '' OR status = ?)
		GROUP BY class`
)

// CountEvents reads whole settled hours from event_rollups (see
// row.CountEvents) and the rest from events_health.
func (q *queries) CountEvents(ctx context.Context, tenantID, connectionID string, since time.Time) (store.EventCounts, error) {
	const op = "counting events"
	if err := checkTimes(op, since); err != nil {
		return store.EventCounts{}, err
	}
	out, err := row.CountEvents(since, q.now(), q.rollupIO(ctx, tenantID, connectionID))
	return out, wrapErr(op, err)
}

// CountEventsByHour is CountEvents hour by hour.
func (q *queries) CountEventsByHour(ctx context.Context, tenantID, connectionID string, since time.Time) ([]store.EventHour, error) {
	const op = "counting events by hour"
	if err := checkTimes(op, since); err != nil {
		return nil, err
	}
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
			rows, err := queryPrepared(ctx, q.read, countEventsByHourSQL, tenantID, connectionID, encTime(from), encTime(to))
			if err != nil {
				return nil, err
			}
			return collect(rows, func(s scanner) (row.HourCount, error) {
				var c row.HourCount
				return c, s.Scan(&c.Hour, &c.State, &c.Outcome, &c.N)
			})
		},
		Rolled: func(fromHour, toHour int64) ([]row.HourCount, error) {
			rows, err := queryPrepared(ctx, q.read, rolledEventsSQL, tenantID, connectionID, fromHour, toHour)
			if err != nil {
				return nil, err
			}
			return collect(rows, func(s scanner) (row.HourCount, error) {
				c := row.HourCount{State: store.EventDone}
				return c, s.Scan(&c.Hour, &c.Outcome, &c.N)
			})
		},
		Seal: func(rows []row.HourCount) error {
			triples := make([][3]any, len(rows))
			for i, r := range rows {
				triples[i] = [3]any{r.Hour, r.Outcome, r.N}
			}
			js, err := json.Marshal(triples)
			if err != nil {
				return err
			}
			_, err = execPrepared(ctx, q.write, sealEventsSQL, tenantID, connectionID, string(js))
			return err
		},
	}
}

func (q *queries) LastEventWithOutcome(ctx context.Context, tenantID, connectionID, outcome string) (store.Event, error) {
	e, err := scanEvent(queryRowPrepared(ctx, q.read, lastEventWithOutcomeSQL, tenantID, connectionID, outcome))
	if err != nil {
		return store.Event{}, wrapErr("getting last event", err)
	}
	return e, nil
}

func (q *queries) CountRecordErrors(ctx context.Context, tenantID, installationID string, status store.RecordErrorStatus) (map[string]int, error) {
	const op = "counting record errors"
	rows, err := q.read.QueryContext(ctx, countRecordErrorsSQL, tenantID, installationID, string(status), string(status))
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
