package sqlite

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
	var allow int64
	var expires, created int64
	if err := s.Scan(&c.TenantID, &c.ID, &c.Provider, &c.ConnectionID, &allow, &expires, &created); err != nil {
		return store.ConnectSession{}, err
	}
	c.AllowAccountChange = allow != 0
	c.ExpiresAt = decTime(expires)
	c.CreatedAt = decTime(created)
	return c, nil
}

func (q *queries) CreateConnectSession(ctx context.Context, s store.ConnectSession) error {
	const op = "creating connect session"
	if s.ExpiresAt.IsZero() {
		return errors.New("sqlite: " + op + ": ExpiresAt is required")
	}
	if err := checkTimes(op, s.ExpiresAt, s.CreatedAt); err != nil {
		return err
	}
	allow := 0
	if s.AllowAccountChange {
		allow = 1
	}
	_, err := q.write.ExecContext(ctx, `INSERT INTO connect_sessions (`+connectSessionColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.TenantID, s.ID, s.Provider, s.ConnectionID, allow, encTime(s.ExpiresAt), encTime(row.OrNow(s.CreatedAt, q.now)))
	return wrapErr(op, err)
}

// ConsumeConnectSession deletes in one statement: of two concurrent starts
// with the same link exactly one gets it.
func (q *queries) ConsumeConnectSession(ctx context.Context, tenantID, id string) (store.ConnectSession, error) {
	const op = "consuming connect session"
	rows, err := q.write.QueryContext(ctx,
		`DELETE FROM connect_sessions WHERE tenant_id = ? AND id = ? RETURNING `+connectSessionColumns, tenantID, id)
	if err != nil {
		return store.ConnectSession{}, wrapErr(op, err)
	}
	out, err := collect(rows, scanConnectSession)
	if err != nil {
		return store.ConnectSession{}, wrapErr(op, err)
	}
	return row.Single("sqlite", op, "id", out)
}

func (q *queries) DeleteConnectSessionsForConnection(ctx context.Context, tenantID, connectionID string) (int, error) {
	res, err := q.write.ExecContext(ctx,
		`DELETE FROM connect_sessions WHERE tenant_id = ? AND connection_id = ? AND connection_id <> ''`, tenantID, connectionID)
	return affected("deleting connect sessions", res, err)
}

func (q *queries) DeleteExpiredConnectSessions(ctx context.Context, now time.Time) (int, error) {
	const op = "deleting expired connect sessions"
	if err := checkTimes(op, now); err != nil {
		return 0, err
	}
	res, err := q.write.ExecContext(ctx, `DELETE FROM connect_sessions WHERE expires_at < ?`, encTime(now))
	return affected(op, res, err)
}

func (q *queries) DeleteOAuthStatesForConnection(ctx context.Context, tenantID, connectionID string) (int, error) {
	res, err := q.write.ExecContext(ctx,
		`DELETE FROM oauth_states WHERE tenant_id = ? AND connection_id = ? AND connection_id <> ''`, tenantID, connectionID)
	return affected("deleting oauth states", res, err)
}
