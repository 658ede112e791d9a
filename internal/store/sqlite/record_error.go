package sqlite

import (
	"context"
	"strings"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

const recordErrorColumns = `tenant_id, id, installation_id, event_id, object, source_id, class, message,
	remediation, status, job_kind, job_args, sample, created_at, updated_at`

func scanRecordError(s scanner) (store.RecordError, error) {
	var e store.RecordError
	var args, sample []byte
	var created, updated int64
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
	if err := checkTimes(op, e.CreatedAt, e.UpdatedAt); err != nil {
		return err
	}
	created, updated := row.Stamps(e.CreatedAt, e.UpdatedAt, q.now)
	_, err := q.write.ExecContext(ctx, `INSERT INTO record_errors (`+recordErrorColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.TenantID, e.ID, e.InstallationID, e.EventID, e.Object, e.SourceID, e.Class, e.Message,
		e.Remediation, string(e.Status), e.JobKind, row.JSON(e.JobArgs), row.JSON(e.Sample), encTime(created), encTime(updated))
	return wrapErr(op, err)
}

func (q *queries) GetRecordError(ctx context.Context, tenantID, id string) (store.RecordError, error) {
	e, err := scanRecordError(q.read.QueryRowContext(ctx,
		`SELECT `+recordErrorColumns+` FROM record_errors WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if err != nil {
		return store.RecordError{}, wrapErr("getting record error", err)
	}
	return e, nil
}

// ListRecordErrors returns the newest first.
func (q *queries) ListRecordErrors(ctx context.Context, tenantID string, f store.RecordErrorFilter) ([]store.RecordError, error) {
	const op = "listing record errors"
	where := []string{"tenant_id = ?"}
	args := []any{tenantID}
	if f.InstallationID != "" {
		where = append(where, "installation_id = ?")
		args = append(args, f.InstallationID)
	}
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, string(f.Status))
	}
	if f.Class != "" {
		where = append(where, "class = ?")
		args = append(args, f.Class)
	}
	args = append(args, row.Limit(f.Limit))
	rows, err := q.read.QueryContext(ctx, `SELECT `+recordErrorColumns+` FROM record_errors
		WHERE `+strings.Join(where, " AND ")+` ORDER BY created_at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanRecordError)
	return out, wrapErr(op, err)
}

func (q *queries) SetRecordErrorStatus(ctx context.Context, tenantID, id string, status store.RecordErrorStatus) error {
	res, err := q.write.ExecContext(ctx,
		`UPDATE record_errors SET status = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		string(status), encTime(q.now()), tenantID, id)
	return oneRow("setting record error status", res, err)
}
