package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

const connectSessionColumns = `tenant_id, id, provider, connection_id, allow_account_change, expires_at, created_at`

func scanConnectSession(s scanner) (store.ConnectSession, error) {
	var c store.ConnectSession
	var expires, created time.Time
	if err := s.Scan(&c.TenantID, &c.ID, &c.Provider, &c.ConnectionID, &c.AllowAccountChange, &expires, &created); err != nil {
		return store.ConnectSession{}, err
	}
	c.ExpiresAt = decTime(expires)
	c.CreatedAt = decTime(created)
	return c, nil
}

func (q *queries) CreateConnectSession(ctx context.Context, s store.ConnectSession) error {
	const op = "creating connect session"
	if s.ExpiresAt.IsZero() {
		return errors.New("postgres: " + op + ": ExpiresAt is required")
	}
	_, err := q.write.Exec(ctx, `INSERT INTO connect_sessions (`+connectSessionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		s.TenantID, s.ID, s.Provider, s.ConnectionID, s.AllowAccountChange, encTime(s.ExpiresAt),
		encTime(row.OrNow(s.CreatedAt, q.now)))
	return wrapErr(op, err)
}

// ConsumeConnectSession deletes in one statement: of two concurrent starts
// with the same link exactly one gets it.
func (q *queries) ConsumeConnectSession(ctx context.Context, tenantID, id string) (store.ConnectSession, error) {
	const op = "consuming connect session"
	rows, err := q.write.Query(ctx,
		`DELETE FROM connect_sessions WHERE tenant_id = $1 AND id = $2 RETURNING `+connectSessionColumns, tenantID, id)
	if err != nil {
		return store.ConnectSession{}, wrapErr(op, err)
	}
	out, err := collect(rows, scanConnectSession)
	if err != nil {
		return store.ConnectSession{}, wrapErr(op, err)
	}
	return row.Single("postgres", op, "id", out)
}

func (q *queries) DeleteConnectSessionsForConnection(ctx context.Context, tenantID, connectionID string) (int, error) {
	tag, err := q.write.Exec(ctx,
		`DELETE FROM connect_sessions WHERE tenant_id = $1 AND connection_id = $2 AND connection_id <> ''`, tenantID, connectionID)
	return affected("deleting connect sessions", tag, err)
}

func (q *queries) DeleteExpiredConnectSessions(ctx context.Context, now time.Time) (int, error) {
	tag, err := q.write.Exec(ctx, `DELETE FROM connect_sessions WHERE expires_at < $1`, encTime(now))
	return affected("deleting expired connect sessions", tag, err)
}

func (q *queries) DeleteOAuthStatesForConnection(ctx context.Context, tenantID, connectionID string) (int, error) {
	tag, err := q.write.Exec(ctx,
		`DELETE FROM oauth_states WHERE tenant_id = $1 AND connection_id = $2 AND connection_id <> ''`, tenantID, connectionID)
	return affected("deleting oauth states", tag, err)
}
