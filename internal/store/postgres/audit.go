package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

// AppendAudit must run in a transaction (Store.AppendAudit opens one). It
// locks the tenant row FOR NO KEY UPDATE so concurrent appends for one
// tenant queue up instead of both taking the same seq; the lock mode does
// not conflict with the key-share locks foreign key checks take, so other
// writes for the tenant go on.
func (q *queries) AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error) {
	const op = "appending audit entry"
	var one int
	err := q.write.QueryRow(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE`, e.TenantID).Scan(&one)
	if err != nil {
		return store.AuditEntry{}, wrapErr(op, err)
	}
	var last int64
	var prev []byte
	err = q.write.QueryRow(ctx,
		`SELECT seq, hash FROM audit_log WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1`, e.TenantID,
	).Scan(&last, &prev)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return store.AuditEntry{}, wrapErr(op, err)
	}
	e = row.NextAudit(e, last, prev, q.now)
	_, err = q.write.Exec(ctx, `INSERT INTO audit_log
		(tenant_id, seq, actor, action, subject, detail, prev_hash, hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		e.TenantID, e.Seq, e.Actor, e.Action, e.Subject, row.JSON(e.Detail), e.PrevHash, e.Hash,
		encTime(e.CreatedAt))
	if err != nil {
		return store.AuditEntry{}, wrapErr(op, err)
	}
	return e, nil
}

func (q *queries) ListAudit(ctx context.Context, tenantID string, afterSeq int64, limit int) ([]store.AuditEntry, error) {
	const op = "listing audit log"
	rows, err := q.read.Query(ctx, `SELECT tenant_id, seq, actor, action, subject, detail, prev_hash, hash, created_at
		FROM audit_log WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, tenantID, afterSeq, row.Limit(limit))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, func(s scanner) (store.AuditEntry, error) {
		var e store.AuditEntry
		var detail []byte
		var created time.Time
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
