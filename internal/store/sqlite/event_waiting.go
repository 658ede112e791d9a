package sqlite

import (
	"context"
	"strings"
)

func (q *queries) CountWaitingEvents(ctx context.Context, tenantID string, connectionIDs []string) (int, error) {
	if len(connectionIDs) == 0 {
		return 0, nil
	}
	args := []any{tenantID}
	for _, id := range connectionIDs {
		args = append(args, id)
	}
	var n int
	err := q.read.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE tenant_id = ? AND connection_id IN (?`+
		strings.Repeat(", ?", len(connectionIDs)-1)+`) AND state IN ('pending', 'queued')`, args...).Scan(&n)
	return n, wrapErr("counting waiting events", err)
}
