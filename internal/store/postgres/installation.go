package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

const installationColumns = `tenant_id, id, contract, contract_version, state, connections, config,
	created_at, updated_at, overrides`

func scanInstallation(s scanner) (store.Installation, error) {
	var in store.Installation
	var conns, config, overrides []byte
	var created, updated time.Time
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
	conns, err := row.EncodeConnections(in.Connections)
	if err != nil {
		return wrapErr(op, err)
	}
	created, updated := row.Stamps(in.CreatedAt, in.UpdatedAt, q.now)
	_, err = q.write.Exec(ctx, `INSERT INTO installations (`+installationColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		in.TenantID, in.ID, in.Contract, in.ContractVersion, string(in.State), conns,
		row.JSON(in.Config), encTime(created), encTime(updated), row.JSON(in.Overrides))
	return wrapErr(op, err)
}

func (q *queries) GetInstallation(ctx context.Context, tenantID, id string) (store.Installation, error) {
	in, err := scanInstallation(q.read.QueryRow(ctx,
		`SELECT `+installationColumns+` FROM installations WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return store.Installation{}, wrapErr("getting installation", err)
	}
	return in, nil
}

func (q *queries) ListInstallations(ctx context.Context, tenantID string) ([]store.Installation, error) {
	rows, err := q.read.Query(ctx,
		`SELECT `+installationColumns+` FROM installations WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, wrapErr("listing installations", err)
	}
	out, err := collect(rows, scanInstallation)
	return out, wrapErr("listing installations", err)
}

func (q *queries) ListInstallationsByConnection(ctx context.Context, tenantID, connectionID string) ([]store.Installation, error) {
	const op = "listing installations by connection"
	rows, err := q.read.Query(ctx, `SELECT `+installationColumns+` FROM installations
		WHERE tenant_id = $1 AND EXISTS (SELECT 1 FROM jsonb_each_text(installations.connections) AS c WHERE c.value = $2)
		ORDER BY created_at, id`, tenantID, connectionID)
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanInstallation)
	return out, wrapErr(op, err)
}

func (q *queries) SetInstallationState(ctx context.Context, tenantID, id string, state store.InstallationState) error {
	tag, err := q.write.Exec(ctx,
		`UPDATE installations SET state = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4`,
		string(state), encTime(q.now()), tenantID, id)
	return oneRow("setting installation state", tag, err)
}

func (q *queries) SetInstallationContractVersion(ctx context.Context, tenantID, id, version string) error {
	tag, err := q.write.Exec(ctx,
		`UPDATE installations SET contract_version = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4`,
		version, encTime(q.now()), tenantID, id)
	return oneRow("setting installation contract version", tag, err)
}

func (q *queries) SetInstallationOverrides(ctx context.Context, tenantID, id string, overrides json.RawMessage) error {
	tag, err := q.write.Exec(ctx,
		`UPDATE installations SET overrides = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4`,
		row.JSON(overrides), encTime(q.now()), tenantID, id)
	return oneRow("setting installation overrides", tag, err)
}
