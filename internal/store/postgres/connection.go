package postgres

import (
	"context"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

const connectionColumns = `tenant_id, id, provider, state, state_reason, secret, granted_scopes,
	token_expires_at, account_id, version, created_at, updated_at, settings`

// decSettings reads the settings column (a JSON object of strings).
func decSettings(raw string) (map[string]string, error) {
	return row.DecodeSettings(raw)
}

func scanConnection(s scanner) (store.Connection, error) {
	var c store.Connection
	var settings string
	var err error
	var expires *time.Time
	var created, updated time.Time
	if err = s.Scan(&c.TenantID, &c.ID, &c.Provider, &c.State, &c.StateReason, &c.Secret, &c.GrantedScopes,
		&expires, &c.AccountID, &c.Version, &created, &updated, &settings); err != nil {
		return store.Connection{}, err
	}
	if c.Settings, err = decSettings(settings); err != nil {
		return store.Connection{}, err
	}
	c.GrantedScopes = row.NilIfEmpty(c.GrantedScopes)
	c.TokenExpiresAt = decOptTime(expires)
	c.CreatedAt = decTime(created)
	c.UpdatedAt = decTime(updated)
	return c, nil
}

func (q *queries) CreateConnection(ctx context.Context, c store.Connection) error {
	const op = "creating connection"
	scopes := row.Scopes(c.GrantedScopes)
	settings, err := row.Settings(c.Settings)
	if err != nil {
		return wrapErr(op, err)
	}
	created, updated := row.Stamps(c.CreatedAt, c.UpdatedAt, q.now)
	_, err = q.write.Exec(ctx, `INSERT INTO connections (`+connectionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $11, $12)`,
		c.TenantID, c.ID, c.Provider, string(c.State), c.StateReason, c.Secret, scopes,
		encOptTime(c.TokenExpiresAt), c.AccountID, encTime(created), encTime(updated), settings)
	return wrapErr(op, err)
}

func (q *queries) GetConnection(ctx context.Context, tenantID, id string) (store.Connection, error) {
	c, err := scanConnection(q.read.QueryRow(ctx,
		`SELECT `+connectionColumns+` FROM connections WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return store.Connection{}, wrapErr("getting connection", err)
	}
	return c, nil
}

func (q *queries) LookupConnection(ctx context.Context, id string) (store.Connection, error) {
	const op = "looking up connection"
	rows, err := q.read.Query(ctx,
		`SELECT `+connectionColumns+` FROM connections WHERE id = $1 LIMIT 2`, id)
	if err != nil {
		return store.Connection{}, wrapErr(op, err)
	}
	out, err := collect(rows, scanConnection)
	if err != nil {
		return store.Connection{}, wrapErr(op, err)
	}
	// Ids are random; two tenants sharing one means the caller cannot know
	// whose webhook this is, so refuse rather than guess.
	return row.Single("postgres", op, "id", out)
}

func (q *queries) ListConnections(ctx context.Context, tenantID string) ([]store.Connection, error) {
	rows, err := q.read.Query(ctx,
		`SELECT `+connectionColumns+` FROM connections WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, wrapErr("listing connections", err)
	}
	out, err := collect(rows, scanConnection)
	return out, wrapErr("listing connections", err)
}

func (q *queries) UpdateConnection(ctx context.Context, c store.Connection) error {
	_, err := q.updateConnection(ctx, "updating connection", c, false)
	return err
}

func (q *queries) SwapConnection(ctx context.Context, c store.Connection) (bool, error) {
	return q.updateConnection(ctx, "swapping connection", c, true)
}

// updateConnection writes c; with cas only while the stored version is
// c.Version. A cas miss tells "changed" (false) from "missing"
// (ErrNotFound) with a second read: a row once created is never deleted
// but with its tenant, so "exists now" means "existed then".
func (q *queries) updateConnection(ctx context.Context, op string, c store.Connection, cas bool) (bool, error) {
	scopes := row.Scopes(c.GrantedScopes)
	query := `UPDATE connections
		SET state = $1, state_reason = $2, secret = $3, granted_scopes = $4, token_expires_at = $5, account_id = $6,
			version = version + 1, updated_at = $7
		WHERE tenant_id = $8 AND id = $9`
	args := []any{string(c.State), c.StateReason, c.Secret, scopes, encOptTime(c.TokenExpiresAt), c.AccountID,
		encTime(q.now()), c.TenantID, c.ID}
	if cas {
		query += ` AND version = $10`
		args = append(args, c.Version)
	}
	tag, err := q.write.Exec(ctx, query, args...)
	if err != nil {
		return false, wrapErr(op, err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	var one int
	if err := q.write.QueryRow(ctx, `SELECT 1 FROM connections WHERE tenant_id = $1 AND id = $2`,
		c.TenantID, c.ID).Scan(&one); err != nil {
		return false, wrapErr(op, err)
	}
	return false, nil
}
