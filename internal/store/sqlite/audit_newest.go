package sqlite

import (
	"context"
	"fmt"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

// ListAuditNewest walks the primary key (tenant_id, seq) backwards; the
// actor and action filters are checked on the way.
func (q *queries) ListAuditNewest(ctx context.Context, tenantID string, beforeSeq int64, f store.AuditFilter, limit int) ([]store.AuditEntry, error) {
	const op = "listing audit log"
	rows, err := q.read.QueryContext(ctx, `SELECT tenant_id, seq, actor, action, subject, detail, prev_hash, hash, created_at
		FROM audit_log WHERE tenant_id = ?1 AND (?2 = 0 OR seq < ?2) AND (?3 = '' OR actor = ?3) AND (?4 = '' OR action = ?4)
		ORDER BY seq DESC LIMIT ?5`, tenantID, beforeSeq, f.Actor, f.Action, row.Limit(limit))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, func(s scanner) (store.AuditEntry, error) {
		var e store.AuditEntry
		var detail []byte
		var created int64
		if err := s.Scan(&e.TenantID, &e.Seq, &e.Actor, &e.Action, &e.Subject, &detail, &e.PrevHash, &e.Hash, &created); err != nil {
			return store.AuditEntry{}, fmt.Errorf("scanning: %w", err)
		}
		e.Detail = row.DecodeJSON(detail)
		e.CreatedAt = decTime(created)
		return e, nil
	})
	return out, wrapErr(op, err)
}
