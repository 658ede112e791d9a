package postgres

import (
	"context"
	"time"

	"github.com/accordhq/accord/internal/store"
)

const syncStateColumns = `tenant_id, installation_id, trigger_name, running, cursor, run_since, run_max, run_started_at,
	run_records, run_events, watermark, has_watermark, runs, last_completed_at, last_error, next_run_at, updated_at`

func (q *queries) GetSyncState(ctx context.Context, tenantID, installationID, trigger string) (store.SyncState, error) {
	r := q.read.QueryRow(ctx, `SELECT `+syncStateColumns+` FROM sync_states
		WHERE tenant_id = $1 AND installation_id = $2 AND trigger_name = $3`, tenantID, installationID, trigger)
	s, err := scanSyncState(r)
	return s, wrapErr("reading sync state", err)
}

func (q *queries) PutSyncState(ctx context.Context, s store.SyncState) error {
	_, err := q.write.Exec(ctx, `INSERT INTO sync_states (`+syncStateColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		ON CONFLICT (tenant_id, installation_id, trigger_name) DO UPDATE SET
		running = excluded.running, cursor = excluded.cursor, run_since = excluded.run_since, run_max = excluded.run_max,
		run_started_at = excluded.run_started_at, run_records = excluded.run_records, run_events = excluded.run_events,
		watermark = excluded.watermark, has_watermark = excluded.has_watermark, runs = excluded.runs,
		last_completed_at = excluded.last_completed_at, last_error = excluded.last_error,
		next_run_at = excluded.next_run_at, updated_at = excluded.updated_at`,
		s.TenantID, s.InstallationID, s.Trigger, s.Running, s.Cursor, s.RunSince, s.RunMax, encOptTime(s.RunStartedAt),
		s.RunRecords, s.RunEvents, s.Watermark, s.HasWatermark, s.Runs, encOptTime(s.LastCompletedAt), s.LastError,
		encOptTime(s.NextRunAt), encTime(s.UpdatedAt))
	return wrapErr("storing sync state", err)
}

func (q *queries) ListSyncStates(ctx context.Context, tenantID, installationID string) ([]store.SyncState, error) {
	const op = "listing sync states"
	rows, err := q.read.Query(ctx, `SELECT `+syncStateColumns+` FROM sync_states
		WHERE tenant_id = $1 AND installation_id = $2 ORDER BY trigger_name`, tenantID, installationID)
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanSyncState)
	return out, wrapErr(op, err)
}

func scanSyncState(r scanner) (store.SyncState, error) {
	var s store.SyncState
	var started, completed, next *time.Time
	var updated time.Time
	err := r.Scan(&s.TenantID, &s.InstallationID, &s.Trigger, &s.Running, &s.Cursor, &s.RunSince, &s.RunMax, &started,
		&s.RunRecords, &s.RunEvents, &s.Watermark, &s.HasWatermark, &s.Runs, &completed, &s.LastError, &next, &updated)
	s.RunStartedAt, s.LastCompletedAt, s.NextRunAt, s.UpdatedAt = decOptTime(started), decOptTime(completed), decOptTime(next), decTime(updated)
	return s, err
}

func (q *queries) PutReconciliation(ctx context.Context, r store.Reconciliation) error {
	_, err := q.write.Exec(ctx, `INSERT INTO reconciliations (tenant_id, installation_id, started_at, finished_at, report)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant_id, installation_id) DO UPDATE SET started_at = excluded.started_at,
		finished_at = excluded.finished_at, report = excluded.report`,
		r.TenantID, r.InstallationID, encTime(r.StartedAt), encOptTime(r.FinishedAt), string(r.Report))
	return wrapErr("storing reconciliation", err)
}

func (q *queries) GetReconciliation(ctx context.Context, tenantID, installationID string) (store.Reconciliation, error) {
	r := store.Reconciliation{TenantID: tenantID, InstallationID: installationID}
	var started time.Time
	var finished *time.Time
	var report []byte
	err := q.read.QueryRow(ctx, `SELECT started_at, finished_at, report FROM reconciliations
		WHERE tenant_id = $1 AND installation_id = $2`, tenantID, installationID).Scan(&started, &finished, &report)
	if err != nil {
		return store.Reconciliation{}, wrapErr("reading reconciliation", err)
	}
	r.StartedAt, r.FinishedAt, r.Report = decTime(started), decOptTime(finished), report
	return r, nil
}
