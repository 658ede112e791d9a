package sqlite

import (
	"context"
	"encoding/json"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

const installationColumns = `tenant_id, id, contract, contract_version, state, connections, config,
	created_at, updated_at, overrides`

const listInstallationsByConnectionSQL = `SELECT ` + installationColumns + ` FROM installations
	WHERE tenant_id = ? AND EXISTS (SELECT 1 FROM json_each(installations.connections) AS c WHERE c.value = ?)
	ORDER BY created_at, id`

func scanInstallation(s scanner) (store.Installation, error) {
	var in store.Installation
	var conns, config, overrides []byte
	var created, updated int64
	if err := s.Scan(&in.TenantID, &in.ID, &in.Contract, &in.ContractVersion, &in.State, &conns, &config,
		&created, &updated, &overrides); err != nil {
		return store.Installation{}, err
	}
	var err error
	if in.Connections, err = row.DecodeConnections(conns); err != nil {
		return store.Installation{}, err
	}
	in.Config = row.DecodeJSON(config)
	in.Overrides = row.DecodeJSON(overrides)
	in.CreatedAt = decTime(created)
	in.UpdatedAt = decTime(updated)
	return in, nil
}

func (q *queries) CreateInstallation(ctx context.Context, in store.Installation) error {
	const op = "creating installation"
	if err := checkTimes(op, in.CreatedAt, in.UpdatedAt); err != nil {
		return err
	}
	conns, err := row.EncodeConnections(in.Connections)
	if err != nil {
		return wrapErr(op, err)
	}
	created, updated := row.Stamps(in.CreatedAt, in.UpdatedAt, q.now)
	_, err = q.write.ExecContext(ctx, `INSERT INTO installations (`+installationColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		in.TenantID, in.ID, in.Contract, in.ContractVersion, string(in.State), conns,
		row.JSON(in.Config), encTime(created), encTime(updated), row.JSON(in.Overrides))
	return wrapErr(op, err)
}

func (q *queries) GetInstallation(ctx context.Context, tenantID, id string) (store.Installation, error) {
	in, err := scanInstallation(q.read.QueryRowContext(ctx,
		`SELECT `+installationColumns+` FROM installations WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if err != nil {
		return store.Installation{}, wrapErr("getting installation", err)
	}
	return in, nil
}

func (q *queries) ListInstallations(ctx context.Context, tenantID string) ([]store.Installation, error) {
	rows, err := q.read.QueryContext(ctx,
		`SELECT `+installationColumns+` FROM installations WHERE tenant_id = ? ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, wrapErr("listing installations", err)
	}
	out, err := collect(rows, scanInstallation)
	return out, wrapErr("listing installations", err)
}

func (q *queries) ListInstallationsByConnection(ctx context.Context, tenantID, connectionID string) ([]store.Installation, error) {
	const op = "listing installations by connection"
	rows, err := queryPrepared(ctx, q.read, listInstallationsByConnectionSQL, tenantID, connectionID)
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanInstallation)
	return out, wrapErr(op, err)
}

func (q *queries) SetInstallationState(ctx context.Context, tenantID, id string, state store.InstallationState) error {
	res, err := q.write.ExecContext(ctx,
		`UPDATE installations SET state = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		string(state), encTime(q.now()), tenantID, id)
	return oneRow("setting installation state", res, err)
}

func (q *queries) SetInstallationContractVersion(ctx context.Context, tenantID, id, version string) error {
	res, err := q.write.ExecContext(ctx,
		`UPDATE installations SET contract_version = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		version, encTime(q.now()), tenantID, id)
	return oneRow("setting installation contract version", res, err)
}

func (q *queries) SetInstallationOverrides(ctx context.Context, tenantID, id string, overrides json.RawMessage) error {
	res, err := q.write.ExecContext(ctx,
		`UPDATE installations SET overrides = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		row.JSON(overrides), encTime(q.now()), tenantID, id)
	return oneRow("setting installation overrides", res, err)
}
