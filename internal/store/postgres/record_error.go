package postgres

import (
	"context"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

const recordErrorColumns = `tenant_id, id, installation_id, event_id, object, source_id, class, message,
	remediation, status, job_kind, job_args, sample, created_at, updated_at`

func scanRecordError(s scanner) (store.RecordError, error) {
	var e store.RecordError
	var args, sample []byte
	var created, updated time.Time
	if err := s.Scan(&e.TenantID, &e.ID, &e.InstallationID, &e.EventID, &e.Object, &e.SourceID, &e.Class,
		&e.Message, &e.Remediation, &e.Status, &e.JobKind, &args, &sample, &created, &updated); err != nil {
		return store.RecordError{}, err
	}
	e.JobArgs = row.DecodeJSON(args)
	e.Sample = row.DecodeJSON(sample)
	e.CreatedAt = decTime(created)
	e.UpdatedAt = decTime(updated)
	return e, nil
}

func (q *queries) InsertRecordError(ctx context.Context, e store.RecordError) error {
	const op = "inserting record error"
	created, updated := row.Stamps(e.CreatedAt, e.UpdatedAt, q.now)
	_, err := q.write.Exec(ctx, `INSERT INTO record_errors (`+recordErrorColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		e.TenantID, e.ID, e.InstallationID, e.EventID, e.Object, e.SourceID, e.Class, e.Message,
		e.Remediation, string(e.Status), e.JobKind, row.JSON(e.JobArgs), row.JSON(e.Sample), encTime(created), encTime(updated))
	return wrapErr(op, err)
}

func (q *queries) GetRecordError(ctx context.Context, tenantID, id string) (store.RecordError, error) {
	e, err := scanRecordError(q.read.QueryRow(ctx,
		`SELECT `+recordErrorColumns+` FROM record_errors WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return store.RecordError{}, wrapErr("getting record error", err)
	}
	return e, nil
}

// ListRecordErrors returns the newest first.
func (q *queries) ListRecordErrors(ctx context.Context, tenantID string, f store.RecordErrorFilter) ([]store.RecordError, error) {
	const op = "listing record errors"
	rows, err := q.read.Query(ctx, `SELECT `+recordErrorColumns+` FROM record_errors
		WHERE tenant_id = $1 AND ($2 = '' OR installation_id = $2) AND ($3 = '' OR status = $3)
			AND ($5 = '' OR class = $5)
		ORDER BY created_at DESC, id DESC LIMIT $4`,
		tenantID, f.InstallationID, string(f.Status), row.Limit(f.Limit), f.Class)
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanRecordError)
	return out, wrapErr(op, err)
}

func (q *queries) SetRecordErrorStatus(ctx context.Context, tenantID, id string, status store.RecordErrorStatus) error {
	tag, err := q.write.Exec(ctx,
		`UPDATE record_errors SET status = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4`,
		string(status), encTime(q.now()), tenantID, id)
	return oneRow("setting record error status", tag, err)
}
