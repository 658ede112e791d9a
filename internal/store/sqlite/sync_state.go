package sqlite

import (
	"context"
	"database/sql"

	"github.com/accordhq/accord/internal/store"
)

const syncStateColumns = `tenant_id, installation_id, trigger_name, running, cursor, run_since, run_max, run_started_at,
	run_records, run_events, watermark, has_watermark, runs, last_completed_at, last_error, next_run_at, updated_at`

func (q *queries) GetSyncState(ctx context.Context, tenantID, installationID, trigger string) (store.SyncState, error) {
	r := q.read.QueryRowContext(ctx, `SELECT `+syncStateColumns+` FROM sync_states
		WHERE tenant_id = ? AND installation_id = ? AND trigger_name = ?`, tenantID, installationID, trigger)
	s, err := scanSyncState(r)
	return s, wrapErr("reading sync state", err)
}

func (q *queries) PutSyncState(ctx context.Context, s store.SyncState) error {
	const op = "storing sync state"
	if err := checkTimes(op, s.RunStartedAt, s.LastCompletedAt, s.NextRunAt, s.UpdatedAt); err != nil {
		return err
	}
	_, err := q.write.ExecContext(ctx, `INSERT OR REPLACE INTO sync_states (`+syncStateColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.TenantID, s.InstallationID, s.Trigger, s.Running, s.Cursor, s.RunSince, s.RunMax, encOptTime(s.RunStartedAt),
		s.RunRecords, s.RunEvents, s.Watermark, s.HasWatermark, s.Runs, encOptTime(s.LastCompletedAt), s.LastError,
		encOptTime(s.NextRunAt), encTime(s.UpdatedAt))
	return wrapErr(op, err)
}

func (q *queries) ListSyncStates(ctx context.Context, tenantID, installationID string) ([]store.SyncState, error) {
	const op = "listing sync states"
	rows, err := q.read.QueryContext(ctx, `SELECT `+syncStateColumns+` FROM sync_states
		WHERE tenant_id = ? AND installation_id = ? ORDER BY trigger_name`, tenantID, installationID)
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanSyncState)
	return out, wrapErr(op, err)
}

func scanSyncState(r scanner) (store.SyncState, error) {
	var s store.SyncState
	var started, completed, next sql.NullInt64
	var updated int64
	err := r.Scan(&s.TenantID, &s.InstallationID, &s.Trigger, &s.Running, &s.Cursor, &s.RunSince, &s.RunMax, &started,
		&s.RunRecords, &s.RunEvents, &s.Watermark, &s.HasWatermark, &s.Runs, &completed, &s.LastError, &next, &updated)
	s.RunStartedAt, s.LastCompletedAt, s.NextRunAt, s.UpdatedAt = decOptTime(started), decOptTime(completed), decOptTime(next), decTime(updated)
	return s, err
}

func (q *queries) PutReconciliation(ctx context.Context, r store.Reconciliation) error {
	const op = "storing reconciliation"
	if err := checkTimes(op, r.StartedAt, r.FinishedAt); err != nil {
		return err
	}
	_, err := q.write.ExecContext(ctx, `INSERT OR REPLACE INTO reconciliations (tenant_id, installation_id, started_at, finished_at, report)
		VALUES (?, ?, ?, ?, ?)`, r.TenantID, r.InstallationID, encTime(r.StartedAt), encOptTime(r.FinishedAt), string(r.Report))
	return wrapErr(op, err)
}

func (q *queries) GetReconciliation(ctx context.Context, tenantID, installationID string) (store.Reconciliation, error) {
	r := store.Reconciliation{TenantID: tenantID, InstallationID: installationID}
	var started int64
	var finished sql.NullInt64
	var report string
	err := q.read.QueryRowContext(ctx, `SELECT started_at, finished_at, report FROM reconciliations
		WHERE tenant_id = ? AND installation_id = ?`, tenantID, installationID).Scan(&started, &finished, &report)
	if err != nil {
		return store.Reconciliation{}, wrapErr("reading reconciliation", err)
	}
	r.StartedAt, r.FinishedAt, r.Report = decTime(started), decOptTime(finished), []byte(report)
	return r, nil
}
