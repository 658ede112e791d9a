package postgres

import (
	"context"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

const apiTokenColumns = `id, hash, name, role, tenant_id, created_by, created_at, expires_at, revoked_at`

func scanAPIToken(s scanner) (store.APIToken, error) {
	var t store.APIToken
	var created time.Time
	var expires, revoked *time.Time
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
	if err := row.CheckAPIToken("postgres", op, t); err != nil {
		return err
	}
	_, err := q.write.Exec(ctx, `INSERT INTO api_tokens (`+apiTokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		t.ID, t.Hash, t.Name, string(t.Role), t.TenantID, t.CreatedBy, encTime(row.OrNow(t.CreatedAt, q.now)),
		encOptTime(t.ExpiresAt), encOptTime(t.RevokedAt))
	return wrapErr(op, err)
}

func (q *queries) GetAPIToken(ctx context.Context, id string) (store.APIToken, error) {
	t, err := scanAPIToken(q.read.QueryRow(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE id = $1`, id))
	if err != nil {
		return store.APIToken{}, wrapErr("getting api token", err)
	}
	return t, nil
}

func (q *queries) GetAPITokenByHash(ctx context.Context, hash []byte) (store.APIToken, error) {
	t, err := scanAPIToken(q.read.QueryRow(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE hash = $1`, hash))
	if err != nil {
		return store.APIToken{}, wrapErr("getting api token", err)
	}
	return t, nil
}

func (q *queries) ListAPITokens(ctx context.Context) ([]store.APIToken, error) {
	const op = "listing api tokens"
	rows, err := q.read.Query(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanAPIToken)
	return out, wrapErr(op, err)
}

func (q *queries) RevokeAPIToken(ctx context.Context, id string, at time.Time) error {
	tag, err := q.write.Exec(ctx,
		`UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2`, encTime(row.OrNow(at, q.now)), id)
	return oneRow("revoking api token", tag, err)
}

const uiLinkColumns = `tenant_id, id, expires_at, created_at`

func scanUILink(s scanner) (store.UILink, error) {
	var l store.UILink
	var expires, created time.Time
	if err := s.Scan(&l.TenantID, &l.ID, &expires, &created); err != nil {
		return store.UILink{}, err
	}
	l.ExpiresAt = decTime(expires)
	l.CreatedAt = decTime(created)
	return l, nil
}

func (q *queries) CreateUILink(ctx context.Context, l store.UILink) error {
	const op = "creating ui link"
	if err := row.CheckUILink("postgres", op, l); err != nil {
		return err
	}
	_, err := q.write.Exec(ctx, `INSERT INTO ui_links (`+uiLinkColumns+`) VALUES ($1, $2, $3, $4)`,
		l.TenantID, l.ID, encTime(l.ExpiresAt), encTime(row.OrNow(l.CreatedAt, q.now)))
	return wrapErr(op, err)
}

// ConsumeUILink deletes in one statement, so of two concurrent uses of the
// same link exactly one gets it.
func (q *queries) ConsumeUILink(ctx context.Context, tenantID, id string) (store.UILink, error) {
	const op = "consuming ui link"
	rows, err := q.write.Query(ctx,
		`DELETE FROM ui_links WHERE tenant_id = $1 AND id = $2 RETURNING `+uiLinkColumns, tenantID, id)
	if err != nil {
		return store.UILink{}, wrapErr(op, err)
	}
	out, err := collect(rows, scanUILink)
	if err != nil {
		return store.UILink{}, wrapErr(op, err)
	}
	return row.Single("postgres", op, "ui link", out)
}

func (q *queries) DeleteExpiredUILinks(ctx context.Context, now time.Time) (int, error) {
	tag, err := q.write.Exec(ctx, `DELETE FROM ui_links WHERE expires_at < $1`, encTime(now))
	return affected("deleting expired ui links", tag, err)
}
