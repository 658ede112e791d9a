package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

const apiTokenColumns = `id, hash, name, role, tenant_id, created_by, created_at, expires_at, revoked_at`

func scanAPIToken(s scanner) (store.APIToken, error) {
	var t store.APIToken
	var created int64
	var expires, revoked sql.NullInt64
	if err := s.Scan(&t.ID, &t.Hash, &t.Name, &t.Role, &t.TenantID, &t.CreatedBy, &created, &expires, &revoked); err != nil {
		return store.APIToken{}, err
	}
	t.CreatedAt = decTime(created)
	t.ExpiresAt = decOptTime(expires)
	t.RevokedAt = decOptTime(revoked)
	return t, nil
}

func (q *queries) CreateAPIToken(ctx context.Context, t store.APIToken) error {
	const op = "creating api token"
	if err := checkTimes(op, t.CreatedAt, t.ExpiresAt, t.RevokedAt); err != nil {
		return err
	}
	if err := row.CheckAPIToken("sqlite", op, t); err != nil {
		return err
	}
	_, err := q.write.ExecContext(ctx, `INSERT INTO api_tokens (`+apiTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Hash, t.Name, string(t.Role), t.TenantID, t.CreatedBy, encTime(row.OrNow(t.CreatedAt, q.now)),
		encOptTime(t.ExpiresAt), encOptTime(t.RevokedAt))
	return wrapErr(op, err)
}

func (q *queries) GetAPIToken(ctx context.Context, id string) (store.APIToken, error) {
	t, err := scanAPIToken(q.read.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE id = ?`, id))
	if err != nil {
		return store.APIToken{}, wrapErr("getting api token", err)
	}
	return t, nil
}

func (q *queries) GetAPITokenByHash(ctx context.Context, hash []byte) (store.APIToken, error) {
	t, err := scanAPIToken(queryRowPrepared(ctx, q.read, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE hash = ?`, hash))
	if err != nil {
		return store.APIToken{}, wrapErr("getting api token", err)
	}
	return t, nil
}

func (q *queries) ListAPITokens(ctx context.Context) ([]store.APIToken, error) {
	const op = "listing api tokens"
	rows, err := q.read.QueryContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanAPIToken)
	return out, wrapErr(op, err)
}

func (q *queries) RevokeAPIToken(ctx context.Context, id string, at time.Time) error {
	const op = "revoking api token"
	if err := checkTimes(op, at); err != nil {
		return err
	}
	res, err := q.write.ExecContext(ctx,
		`UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, encTime(row.OrNow(at, q.now)), id)
	return oneRow(op, res, err)
}

const uiLinkColumns = `tenant_id, id, expires_at, created_at`

func scanUILink(s scanner) (store.UILink, error) {
	var l store.UILink
	var expires, created int64
	if err := s.Scan(&l.TenantID, &l.ID, &expires, &created); err != nil {
		return store.UILink{}, err
	}
	l.ExpiresAt = decTime(expires)
	l.CreatedAt = decTime(created)
	return l, nil
}

func (q *queries) CreateUILink(ctx context.Context, l store.UILink) error {
	const op = "creating ui link"
	if err := checkTimes(op, l.ExpiresAt, l.CreatedAt); err != nil {
		return err
	}
	if err := row.CheckUILink("sqlite", op, l); err != nil {
		return err
	}
	_, err := q.write.ExecContext(ctx, `INSERT INTO ui_links (`+uiLinkColumns+`) VALUES (?, ?, ?, ?)`,
		l.TenantID, l.ID, encTime(l.ExpiresAt), encTime(row.OrNow(l.CreatedAt, q.now)))
	return wrapErr(op, err)
}

// ConsumeUILink deletes in one statement, so of two concurrent uses of the
// same link exactly one gets it.
func (q *queries) ConsumeUILink(ctx context.Context, tenantID, id string) (store.UILink, error) {
	const op = "consuming ui link"
	rows, err := q.write.QueryContext(ctx,
		`DELETE FROM ui_links WHERE tenant_id = ? AND id = ? RETURNING `+uiLinkColumns, tenantID, id)
	if err != nil {
		return store.UILink{}, wrapErr(op, err)
	}
	out, err := collect(rows, scanUILink)
	if err != nil {
		return store.UILink{}, wrapErr(op, err)
	}
	return row.Single("sqlite", op, "ui link", out)
}

func (q *queries) DeleteExpiredUILinks(ctx context.Context, now time.Time) (int, error) {
	const op = "deleting expired ui links"
	if err := checkTimes(op, now); err != nil {
		return 0, err
	}
	res, err := q.write.ExecContext(ctx, `DELETE FROM ui_links WHERE expires_at < ?`, encTime(now))
	return affected(op, res, err)
}
