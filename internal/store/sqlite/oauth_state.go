package sqlite

import (
	"context"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

const oauthStateColumns = `state, tenant_id, provider, connection_id, sealed, expires_at, created_at`

func scanOAuthState(s scanner) (store.OAuthState, error) {
	var o store.OAuthState
	var expires, created int64
	if err := s.Scan(&o.State, &o.TenantID, &o.Provider, &o.ConnectionID, &o.Sealed, &expires, &created); err != nil {
		return store.OAuthState{}, err
	}
	o.ExpiresAt = decTime(expires)
	o.CreatedAt = decTime(created)
	return o, nil
}

func (q *queries) CreateOAuthState(ctx context.Context, s store.OAuthState) error {
	const op = "creating oauth state"
	if err := checkTimes(op, s.ExpiresAt, s.CreatedAt); err != nil {
		return err
	}
	if err := row.CheckOAuthState("sqlite", op, s); err != nil {
		return err
	}
	_, err := q.write.ExecContext(ctx, `INSERT INTO oauth_states (`+oauthStateColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.State, s.TenantID, s.Provider, s.ConnectionID, s.Sealed, encTime(s.ExpiresAt),
		encTime(row.OrNow(s.CreatedAt, q.now)))
	return wrapErr(op, err)
}

// ConsumeOAuthState deletes in one statement, so of two concurrent
// callbacks with the same state exactly one gets it.
func (q *queries) ConsumeOAuthState(ctx context.Context, state string) (store.OAuthState, error) {
	const op = "consuming oauth state"
	rows, err := q.write.QueryContext(ctx,
		`DELETE FROM oauth_states WHERE state = ? RETURNING `+oauthStateColumns, state)
	if err != nil {
		return store.OAuthState{}, wrapErr(op, err)
	}
	out, err := collect(rows, scanOAuthState)
	if err != nil {
		return store.OAuthState{}, wrapErr(op, err)
	}
	// The caller's transaction rolls back on an error, deleting nothing.
	return row.Single("sqlite", op, "state", out)
}

func (q *queries) DeleteExpiredOAuthStates(ctx context.Context, now time.Time) (int, error) {
	const op = "deleting expired oauth states"
	if err := checkTimes(op, now); err != nil {
		return 0, err
	}
	res, err := q.write.ExecContext(ctx, `DELETE FROM oauth_states WHERE expires_at < ?`, encTime(now))
	return affected(op, res, err)
}
