package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

// AppendAudit must run in a write transaction (Store.AppendAudit opens one):
// the transaction's write lock keeps the head of the chain from moving
// between reading it and appending.
func (q *queries) AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error) {
	const op = "appending audit entry"
	if err := checkTimes(op, e.CreatedAt); err != nil {
		return store.AuditEntry{}, err
	}
	var last int64
	var prev []byte
	err := q.write.QueryRowContext(ctx,
		`SELECT seq, hash FROM audit_log WHERE tenant_id = ? ORDER BY seq DESC LIMIT 1`, e.TenantID,
	).Scan(&last, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return store.AuditEntry{}, wrapErr(op, err)
	}
	e = row.NextAudit(e, last, prev, q.now)
	_, err = q.write.ExecContext(ctx, `INSERT INTO audit_log
		(tenant_id, seq, actor, action, subject, detail, prev_hash, hash, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.TenantID, e.Seq, e.Actor, e.Action, e.Subject, row.JSON(e.Detail), e.PrevHash, e.Hash,
		encTime(e.CreatedAt))
	if err != nil {
		return store.AuditEntry{}, wrapErr(op, err)
	}
	return e, nil
}

func (q *queries) ListAudit(ctx context.Context, tenantID string, afterSeq int64, limit int) ([]store.AuditEntry, error) {
	const op = "listing audit log"
	rows, err := q.read.QueryContext(ctx, `SELECT tenant_id, seq, actor, action, subject, detail, prev_hash, hash, created_at
		FROM audit_log WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?`, tenantID, afterSeq, row.Limit(limit))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, func(s scanner) (store.AuditEntry, error) {
		var e store.AuditEntry
		var detail []byte
		var created int64
		if err := s.Scan(&e.TenantID, &e.Seq, &e.Actor, &e.Action, &e.Subject, &detail, &e.PrevHash, &e.Hash,
			&created); err != nil {
			return store.AuditEntry{}, fmt.Errorf("scanning: %w", err)
		}
		e.Detail = row.DecodeJSON(detail)
		e.CreatedAt = decTime(created)
		return e, nil
	})
	return out, wrapErr(op, err)
}
