package postgres

import "context"

func (q *queries) CountWaitingEvents(ctx context.Context, tenantID string, connectionIDs []string) (int, error) {
	if len(connectionIDs) == 0 {
		return 0, nil
	}
	var n int
	err := q.read.QueryRow(ctx, `SELECT count(*) FROM events WHERE tenant_id = $1 AND connection_id = ANY($2)
		AND state IN ('pending', 'queued')`, tenantID, connectionIDs).Scan(&n)
	return n, wrapErr("counting waiting events", err)
}
