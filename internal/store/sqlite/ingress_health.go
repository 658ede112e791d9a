package sqlite

import (
	"context"
	"encoding/json"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

var (
	// countLatenciesByHourSQL counts the applied events by hour and
	// latency bucket, and the events not done by hour (they keep the hour
	// from being sealed). Done events with another outcome are left out.
	countLatenciesByHourSQL = `SELECT received_at / 3600000000000, state,
			CASE WHEN state = 'done' THEN ` + latencyBucket + ` ELSE -1 END, count(*) FROM events
		WHERE tenant_id = ? AND connection_id = ? AND received_at >= ? AND received_at < ?
			AND (state <> 'done' OR (outcome = 'applied' AND done_at IS NOT NULL))
		GROUP BY 1, 2, 3`
	rolledLatenciesSQL = `SELECT hour, bucket, events FROM event_latency_rollups
		WHERE tenant_id = ? AND connection_id = ? AND hour >= ? AND hour < ?`
	sealLatenciesSQL = `INSERT INTO event_latency_rollups (tenant_id, connection_id, hour, bucket, events)
		SELECT ?1, ?2, json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]')
		FROM json_each(?3) WHERE true
		ON CONFLICT DO NOTHING`
	// addWebhookRejectionsSQL takes [tenant, connection, hour, reason, n]
	// rows as one JSON array; the join drops a connection deleted since.
	addWebhookRejectionsSQL = `INSERT INTO webhook_rejections (tenant_id, connection_id, hour, reason, rejections)
		SELECT c.tenant_id, c.id, json_extract(r.value, '$[2]'), json_extract(r.value, '$[3]'), json_extract(r.value, '$[4]')
		FROM json_each(?1) AS r
		JOIN connections AS c ON c.tenant_id = json_extract(r.value, '$[0]') AND c.id = json_extract(r.value, '$[1]')
		WHERE true
		ON CONFLICT (tenant_id, connection_id, hour, reason) DO UPDATE SET rejections = rejections + excluded.rejections`
	countWebhookRejectionsSQL = `SELECT reason, sum(rejections) FROM webhook_rejections
		WHERE tenant_id = ? AND connection_id = ? AND hour >= ? GROUP BY reason`
)

// latencyBucket: done_at and received_at are Unix nanoseconds.
var latencyBucket = row.LatencyBucketSQL("(done_at - received_at)")

// EventLatencies rolls latencies up by hour as CountEvents does outcomes.
func (q *queries) EventLatencies(ctx context.Context, tenantID, connectionID string, since time.Time) (store.LatencyHistogram, error) {
	const op = "reading event latencies"
	if err := checkTimes(op, since); err != nil {
		return nil, err
	}
	rows, err := row.EventsByHour(since, q.now(), row.RollupIO{
		Raw: func(from, to time.Time) ([]row.HourCount, error) {
			rows, err := queryPrepared(ctx, q.read, countLatenciesByHourSQL, tenantID, connectionID, encTime(from), encTime(to))
			if err != nil {
				return nil, err
			}
			return collect(rows, func(s scanner) (row.HourCount, error) {
				var c row.HourCount
				var b int
				err := s.Scan(&c.Hour, &c.State, &b, &c.N)
				c.Outcome = row.BucketKey(b)
				return c, err
			})
		},
		Rolled: func(fromHour, toHour int64) ([]row.HourCount, error) {
			rows, err := queryPrepared(ctx, q.read, rolledLatenciesSQL, tenantID, connectionID, fromHour, toHour)
			if err != nil {
				return nil, err
			}
			return collect(rows, func(s scanner) (row.HourCount, error) {
				c := row.HourCount{State: store.EventDone}
				var b int
				err := s.Scan(&c.Hour, &b, &c.N)
				c.Outcome = row.BucketKey(b)
				return c, err
			})
		},
		Seal: func(rows []row.HourCount) error {
			triples := make([][3]any, len(rows))
			for i, r := range rows {
				triples[i] = [3]any{r.Hour, row.KeyBucket(r.Outcome), r.N}
			}
			js, err := json.Marshal(triples)
			if err != nil {
				return err
			}
			_, err = execPrepared(ctx, q.write, sealLatenciesSQL, tenantID, connectionID, string(js))
			return err
		},
	})
	if err != nil {
		return nil, wrapErr(op, err)
	}
	return row.Latencies(rows), nil
}

func (q *queries) AddWebhookRejections(ctx context.Context, rs []store.WebhookRejection) error {
	rs = row.MergeRejections(rs)
	if len(rs) == 0 {
		return nil
	}
	rows := make([][5]any, len(rs))
	for i, r := range rs {
		rows[i] = [5]any{r.TenantID, r.ConnectionID, row.UnixHour(r.Hour), r.Reason, r.N}
	}
	js, err := json.Marshal(rows)
	if err != nil {
		return wrapErr("adding webhook rejections", err)
	}
	_, err = execPrepared(ctx, q.write, addWebhookRejectionsSQL, string(js))
	return wrapErr("adding webhook rejections", err)
}

func (q *queries) CountWebhookRejections(ctx context.Context, tenantID, connectionID string, since time.Time) (map[string]int, error) {
	const op = "counting webhook rejections"
	rows, err := queryPrepared(ctx, q.read, countWebhookRejectionsSQL, tenantID, connectionID, row.UnixHour(since))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	type rc struct {
		reason string
		n      int
	}
	list, err := collect(rows, func(s scanner) (rc, error) {
		var r rc
		return r, s.Scan(&r.reason, &r.n)
	})
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out := map[string]int{}
	for _, r := range list {
		out[r.reason] = r.n
	}
	return out, nil
}
