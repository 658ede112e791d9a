package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

const connectionColumns = `tenant_id, id, provider, state, state_reason, secret, granted_scopes,
	token_expires_at, account_id, version, created_at, updated_at, settings`

const (
	getConnectionSQL    = `SELECT ` + connectionColumns + ` FROM connections WHERE tenant_id = ? AND id = ?`
	lookupConnectionSQL = `SELECT ` + connectionColumns + ` FROM connections WHERE id = ? LIMIT 2`
)

// decSettings reads the settings column (a JSON object of strings).
func decSettings(raw string) (map[string]string, error) {
	return row.DecodeSettings(raw)
}

func scanConnection(s scanner) (store.Connection, error) {
	var c store.Connection
	var settings string
	var err error
	var scopes []byte
	var expires sql.NullInt64
	var created, updated int64
	if err = s.Scan(&c.TenantID, &c.ID, &c.Provider, &c.State, &c.StateReason, &c.Secret, &scopes,
		&expires, &c.AccountID, &c.Version, &created, &updated, &settings); err != nil {
		return store.Connection{}, err
	}
	if c.Settings, err = decSettings(settings); err != nil {
		return store.Connection{}, err
	}
	if err := json.Unmarshal(scopes, &c.GrantedScopes); err != nil {
		return store.Connection{}, fmt.Errorf("decoding granted scopes: %w", err)
	}
	c.GrantedScopes = row.NilIfEmpty(c.GrantedScopes)
	c.TokenExpiresAt = decOptTime(expires)
	c.CreatedAt = decTime(created)
	c.UpdatedAt = decTime(updated)
	return c, nil
}

func encScopes(scopes []string) (string, error) {
	b, err := json.Marshal(row.Scopes(scopes))
	return string(b), err
}

func (q *queries) CreateConnection(ctx context.Context, c store.Connection) error {
	const op = "creating connection"
	if err := checkTimes(op, c.TokenExpiresAt, c.CreatedAt, c.UpdatedAt); err != nil {
		return err
	}
	scopes, err := encScopes(c.GrantedScopes)
	if err != nil {
		return wrapErr(op, err)
	}
	settings, err := row.Settings(c.Settings)
	if err != nil {
		return wrapErr(op, err)
	}
	created, updated := row.Stamps(c.CreatedAt, c.UpdatedAt, q.now)
	_, err = q.write.ExecContext(ctx, `INSERT INTO connections (`+connectionColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`,
		c.TenantID, c.ID, c.Provider, string(c.State), c.StateReason, c.Secret, scopes,
		encOptTime(c.TokenExpiresAt), c.AccountID, encTime(created), encTime(updated), settings)
	return wrapErr(op, err)
}

func (q *queries) GetConnection(ctx context.Context, tenantID, id string) (store.Connection, error) {
	c, err := scanConnection(queryRowPrepared(ctx, q.read, getConnectionSQL, tenantID, id))
	if err != nil {
		return store.Connection{}, wrapErr("getting connection", err)
	}
	return c, nil
}

func (q *queries) LookupConnection(ctx context.Context, id string) (store.Connection, error) {
	const op = "looking up connection"
	rows, err := queryPrepared(ctx, q.read, lookupConnectionSQL, id)
	if err != nil {
		return store.Connection{}, wrapErr(op, err)
	}
	out, err := collect(rows, scanConnection)
	if err != nil {
		return store.Connection{}, wrapErr(op, err)
	}
	// Ids are random; two tenants sharing one means the caller cannot know
	// whose webhook this is, so refuse rather than guess.
	return row.Single("sqlite", op, "id", out)
}

func (q *queries) ListConnections(ctx context.Context, tenantID string) ([]store.Connection, error) {
	rows, err := q.read.QueryContext(ctx,
		`SELECT `+connectionColumns+` FROM connections WHERE tenant_id = ? ORDER BY created_at, id`, tenantID)
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
// (ErrNotFound) with a second read, which the write lock makes exact.
func (q *queries) updateConnection(ctx context.Context, op string, c store.Connection, cas bool) (bool, error) {
	if err := checkTimes(op, c.TokenExpiresAt); err != nil {
		return false, err
	}
	scopes, err := encScopes(c.GrantedScopes)
	if err != nil {
		return false, wrapErr(op, err)
	}
	query := `UPDATE connections
		SET state = ?, state_reason = ?, secret = ?, granted_scopes = ?, token_expires_at = ?, account_id = ?,
			version = version + 1, updated_at = ?
		WHERE tenant_id = ? AND id = ?`
	args := []any{string(c.State), c.StateReason, c.Secret, scopes, encOptTime(c.TokenExpiresAt), c.AccountID,
		encTime(q.now()), c.TenantID, c.ID}
	if cas {
		query += ` AND version = ?`
		args = append(args, c.Version)
	}
	res, err := q.write.ExecContext(ctx, query, args...)
	if err != nil {
		return false, wrapErr(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, wrapErr(op, err)
	}
	if n == 1 {
		return true, nil
	}
	var one int
	if err := q.write.QueryRowContext(ctx, `SELECT 1 FROM connections WHERE tenant_id = ? AND id = ?`,
		c.TenantID, c.ID).Scan(&one); err != nil {
		return false, wrapErr(op, err)
	}
	return false, nil
}
