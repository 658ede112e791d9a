package postgres

import (
	"context"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

const connectionColumns = `tenant_id, id, provider, state, state_reason, secret, granted_scopes,
	token_expires_at, created_at, updated_at`

func scanConnection(s scanner) (store.Connection, error) {
	var c store.Connection
	var expires *time.Time
	var created, updated time.Time
	if err := s.Scan(&c.TenantID, &c.ID, &c.Provider, &c.State, &c.StateReason, &c.Secret, &c.GrantedScopes,
		&expires, &created, &updated); err != nil {
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
	created, updated := row.Stamps(c.CreatedAt, c.UpdatedAt, q.now)
	_, err := q.write.Exec(ctx, `INSERT INTO connections (`+connectionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		c.TenantID, c.ID, c.Provider, string(c.State), c.StateReason, c.Secret, scopes,
		encOptTime(c.TokenExpiresAt), encTime(created), encTime(updated))
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
	const op = "updating connection"
	scopes := row.Scopes(c.GrantedScopes)
	tag, err := q.write.Exec(ctx, `UPDATE connections
		SET state = $1, state_reason = $2, secret = $3, granted_scopes = $4, token_expires_at = $5, updated_at = $6
		WHERE tenant_id = $7 AND id = $8`,
		string(c.State), c.StateReason, c.Secret, scopes, encOptTime(c.TokenExpiresAt), encTime(q.now()),
		c.TenantID, c.ID)
	return oneRow(op, tag, err)
}
