package postgres

import (
	"context"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

func (q *queries) deleteBatch(ctx context.Context, op, sql string, args ...any) (int, error) {
	tag, err := q.write.Exec(ctx, sql, args...)
	return affected(op, tag, err)
}

func (q *queries) DeleteEventsForConnection(ctx context.Context, tenantID, connectionID string, limit int) (int, error) {
	return q.deleteBatch(ctx, "deleting connection events", `WITH batch AS (
			SELECT tenant_id, id FROM events WHERE tenant_id = $1 AND connection_id = $2 LIMIT $3 FOR UPDATE SKIP LOCKED)
		DELETE FROM events AS e USING batch WHERE e.tenant_id = batch.tenant_id AND e.id = batch.id`,
		tenantID, connectionID, row.Limit(limit))
}

func (q *queries) DeleteLinksForInstallation(ctx context.Context, tenantID, installationID string, limit int) (int, error) {
	return q.deleteBatch(ctx, "deleting installation links", `WITH batch AS (
			SELECT ctid FROM links WHERE tenant_id = $1 AND installation_id = $2 LIMIT $3 FOR UPDATE SKIP LOCKED)
		DELETE FROM links AS l USING batch WHERE l.ctid = batch.ctid`,
		tenantID, installationID, row.Limit(limit))
}

func (q *queries) DeleteRecordErrorsForInstallation(ctx context.Context, tenantID, installationID string, limit int) (int, error) {
	return q.deleteBatch(ctx, "deleting installation record errors", `WITH batch AS (
			SELECT tenant_id, id FROM record_errors WHERE tenant_id = $1 AND installation_id = $2 LIMIT $3 FOR UPDATE SKIP LOCKED)
		DELETE FROM record_errors AS r USING batch WHERE r.tenant_id = batch.tenant_id AND r.id = batch.id`,
		tenantID, installationID, row.Limit(limit))
}

func (q *queries) DeleteInstallation(ctx context.Context, tenantID, id string) error {
	tag, err := q.write.Exec(ctx, `DELETE FROM installations WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	return oneRow("deleting installation", tag, err)
}

func (q *queries) DeleteConnection(ctx context.Context, tenantID, id string) error {
	tag, err := q.write.Exec(ctx, `DELETE FROM connections WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	return oneRow("deleting connection", tag, err)
}

const uninstallColumns = `tenant_id, installation_id, contract, actor, state, step, steps, purge_after, created_at, updated_at`

func scanUninstall(s scanner) (store.Uninstall, error) {
	var u store.Uninstall
	var steps []byte
	var purge, created, updated time.Time
	if err := s.Scan(&u.TenantID, &u.InstallationID, &u.Contract, &u.Actor, &u.State, &u.Step, &steps,
		&purge, &created, &updated); err != nil {
		return store.Uninstall{}, err
	}
	u.Steps = row.DecodeJSON(steps)
	u.PurgeAfter, u.CreatedAt, u.UpdatedAt = decTime(purge), decTime(created), decTime(updated)
	return u, nil
}

func stepsJSON(b []byte) string {
	if len(b) == 0 {
		return "[]"
	}
	return string(b)
}

func (q *queries) CreateUninstall(ctx context.Context, u store.Uninstall) error {
	created, updated := row.Stamps(u.CreatedAt, u.UpdatedAt, q.now)
	_, err := q.write.Exec(ctx, `INSERT INTO uninstalls (`+uninstallColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		u.TenantID, u.InstallationID, u.Contract, u.Actor, string(u.State), u.Step, stepsJSON(u.Steps),
		encTime(u.PurgeAfter), encTime(created), encTime(updated))
	return wrapErr("creating uninstall", err)
}

func (q *queries) GetUninstall(ctx context.Context, tenantID, installationID string) (store.Uninstall, error) {
	u, err := scanUninstall(q.read.QueryRow(ctx, `SELECT `+uninstallColumns+` FROM uninstalls
		WHERE tenant_id = $1 AND installation_id = $2`, tenantID, installationID))
	if err != nil {
		return store.Uninstall{}, wrapErr("getting uninstall", err)
	}
	return u, nil
}

func (q *queries) UpdateUninstall(ctx context.Context, u store.Uninstall) error {
	tag, err := q.write.Exec(ctx, `UPDATE uninstalls SET state = $1, step = $2, steps = $3, purge_after = $4, updated_at = $5
		WHERE tenant_id = $6 AND installation_id = $7`,
		string(u.State), u.Step, stepsJSON(u.Steps), encTime(u.PurgeAfter), encTime(q.now()), u.TenantID, u.InstallationID)
	return oneRow("updating uninstall", tag, err)
}
