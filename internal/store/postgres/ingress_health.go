package postgres

import (
	"context"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

var (
	// countLatenciesByHourSQL counts the applied events by hour and
	// latency bucket, and the events not done by hour (they keep the hour
	// from being sealed). Done events with another outcome are left out.
	countLatenciesByHourSQL = `SELECT floor(extract(epoch FROM received_at) / 3600)::bigint, state,
			CASE WHEN state = 'done' THEN ` + latencyBucket + ` ELSE -1 END, count(*) FROM events
		WHERE tenant_id = $1 AND connection_id = $2 AND received_at >= $3 AND received_at < $4
			AND (state <> 'done' OR (outcome = 'applied' AND done_at IS NOT NULL))
		GROUP BY 1, 2, 3`
	rolledLatenciesSQL = `SELECT hour, bucket, events FROM event_latency_rollups
		WHERE tenant_id = $1 AND connection_id = $2 AND hour >= $3 AND hour < $4`
	sealLatenciesSQL = `INSERT INTO event_latency_rollups (tenant_id, connection_id, hour, bucket, events)
		SELECT $1, $2, h, b, n FROM unnest($3::bigint[], $4::int[], $5::bigint[]) AS r(h, b, n)
		ON CONFLICT DO NOTHING`
	// addWebhookRejectionsSQL: the join drops a connection deleted since.
	addWebhookRejectionsSQL = `INSERT INTO webhook_rejections AS w (tenant_id, connection_id, hour, reason, rejections)
		SELECT c.tenant_id, c.id, r.h, r.reason, r.n
		FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[]) AS r(t, c, h, reason, n)
		JOIN connections AS c ON c.tenant_id = r.t AND c.id = r.c
		ON CONFLICT (tenant_id, connection_id, hour, reason) DO UPDATE SET rejections = w.rejections + excluded.rejections`
	countWebhookRejectionsSQL = `SELECT reason, sum(rejections)::bigint FROM webhook_rejections
		WHERE tenant_id = $1 AND connection_id = $2 AND hour >= $3 GROUP BY reason`
)

// latencyBucket: the latency in nanoseconds.
var latencyBucket = row.LatencyBucketSQL("(extract(epoch FROM done_at - received_at) * 1000000000)")

// EventLatencies rolls latencies up by hour as CountEvents does outcomes.
func (q *queries) EventLatencies(ctx context.Context, tenantID, connectionID string, since time.Time) (store.LatencyHistogram, error) {
	const op = "reading event latencies"
	rows, err := row.EventsByHour(since, q.now(), row.RollupIO{
		Raw: func(from, to time.Time) ([]row.HourCount, error) {
			rows, err := q.read.Query(ctx, countLatenciesByHourSQL, tenantID, connectionID, encTime(from), encTime(to))
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
			rows, err := q.read.Query(ctx, rolledLatenciesSQL, tenantID, connectionID, fromHour, toHour)
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
			hours, buckets, counts := make([]int64, len(rows)), make([]int32, len(rows)), make([]int64, len(rows))
			for i, r := range rows {
				hours[i], buckets[i], counts[i] = r.Hour, int32(row.KeyBucket(r.Outcome)), int64(r.N)
			}
			_, err := q.write.Exec(ctx, sealLatenciesSQL, tenantID, connectionID, hours, buckets, counts)
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
	n := len(rs)
	tenants, conns, hours, reasons, counts := make([]string, n), make([]string, n), make([]int64, n), make([]string, n), make([]int64, n)
	for i, r := range rs {
		tenants[i], conns[i], hours[i], reasons[i], counts[i] = r.TenantID, r.ConnectionID, row.UnixHour(r.Hour), r.Reason, int64(r.N)
	}
	_, err := q.write.Exec(ctx, addWebhookRejectionsSQL, tenants, conns, hours, reasons, counts)
	return wrapErr("adding webhook rejections", err)
}

func (q *queries) CountWebhookRejections(ctx context.Context, tenantID, connectionID string, since time.Time) (map[string]int, error) {
	const op = "counting webhook rejections"
	rows, err := q.read.Query(ctx, countWebhookRejectionsSQL, tenantID, connectionID, row.UnixHour(since))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var reason string
		var n int
		if err := rows.Scan(&reason, &n); err != nil {
			return nil, wrapErr(op, err)
		}
		out[reason] = n
	}
	return out, wrapErr(op, rows.Err())
}
