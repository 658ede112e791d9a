package sqlite

import (
	"context"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

func (q *queries) deleteBatch(ctx context.Context, op, sql string, args ...any) (int, error) {
	res, err := q.write.ExecContext(ctx, sql, args...)
	return affected(op, res, err)
}

func (q *queries) DeleteEventsForConnection(ctx context.Context, tenantID, connectionID string, limit int) (int, error) {
	return q.deleteBatch(ctx, "deleting connection events", `DELETE FROM events WHERE (tenant_id, id) IN (
		SELECT tenant_id, id FROM events WHERE tenant_id = ? AND connection_id = ? LIMIT ?)`,
		tenantID, connectionID, row.Limit(limit))
}

func (q *queries) DeleteLinksForInstallation(ctx context.Context, tenantID, installationID string, limit int) (int, error) {
	return q.deleteBatch(ctx, "deleting installation links", `DELETE FROM links WHERE rowid IN (
		SELECT rowid FROM links WHERE tenant_id = ? AND installation_id = ? LIMIT ?)`,
		tenantID, installationID, row.Limit(limit))
}

func (q *queries) DeleteRecordErrorsForInstallation(ctx context.Context, tenantID, installationID string, limit int) (int, error) {
	return q.deleteBatch(ctx, "deleting installation record errors", `DELETE FROM record_errors WHERE (tenant_id, id) IN (
		SELECT tenant_id, id FROM record_errors WHERE tenant_id = ? AND installation_id = ? LIMIT ?)`,
		tenantID, installationID, row.Limit(limit))
}

func (q *queries) DeleteInstallation(ctx context.Context, tenantID, id string) error {
	res, err := q.write.ExecContext(ctx, `DELETE FROM installations WHERE tenant_id = ? AND id = ?`, tenantID, id)
	return oneRow("deleting installation", res, err)
}

func (q *queries) DeleteConnection(ctx context.Context, tenantID, id string) error {
	res, err := q.write.ExecContext(ctx, `DELETE FROM connections WHERE tenant_id = ? AND id = ?`, tenantID, id)
	return oneRow("deleting connection", res, err)
}

const uninstallColumns = `tenant_id, installation_id, contract, actor, state, step, steps, purge_after, created_at, updated_at`

func scanUninstall(s scanner) (store.Uninstall, error) {
	var u store.Uninstall
	var steps []byte
	var purge, created, updated int64
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
	const op = "creating uninstall"
	if err := checkTimes(op, u.PurgeAfter, u.CreatedAt, u.UpdatedAt); err != nil {
		return err
	}
	created, updated := row.Stamps(u.CreatedAt, u.UpdatedAt, q.now)
	_, err := q.write.ExecContext(ctx, `INSERT INTO uninstalls (`+uninstallColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.TenantID, u.InstallationID, u.Contract, u.Actor, string(u.State), u.Step, stepsJSON(u.Steps),
		encTime(u.PurgeAfter), encTime(created), encTime(updated))
	return wrapErr(op, err)
}

func (q *queries) GetUninstall(ctx context.Context, tenantID, installationID string) (store.Uninstall, error) {
	u, err := scanUninstall(q.read.QueryRowContext(ctx, `SELECT `+uninstallColumns+` FROM uninstalls
		WHERE tenant_id = ? AND installation_id = ?`, tenantID, installationID))
	if err != nil {
		return store.Uninstall{}, wrapErr("getting uninstall", err)
	}
	return u, nil
}

func (q *queries) UpdateUninstall(ctx context.Context, u store.Uninstall) error {
	const op = "updating uninstall"
	if err := checkTimes(op, u.PurgeAfter); err != nil {
		return err
	}
	res, err := q.write.ExecContext(ctx, `UPDATE uninstalls SET state = ?, step = ?, steps = ?, purge_after = ?, updated_at = ?
		WHERE tenant_id = ? AND installation_id = ?`,
		string(u.State), u.Step, stepsJSON(u.Steps), encTime(u.PurgeAfter), encTime(q.now()), u.TenantID, u.InstallationID)
	return oneRow(op, res, err)
}
