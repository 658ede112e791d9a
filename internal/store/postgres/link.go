package postgres

import (
	"context"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

const linkColumns = `tenant_id, installation_id, source_object, source_id, target_object, action,
	target_id, version, event_id, event_at, etag, fields, updated_at, uncertain, uncertain_since, source_deleted`

const (
	// upsertLinkSQL is the fence: the DO UPDATE's WHERE leaves a newer
	// stored (version, receipt) alone (the row lock ON CONFLICT takes decides racing
	// writers), and the caller learns so from the row count. A write that
	// lands clears the uncertain flag: its answer came.
	upsertLinkSQL = `INSERT INTO links
		(tenant_id, installation_id, source_object, source_id, target_object, action, target_id, version, event_id, event_at, etag, fields, updated_at, source_deleted)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (tenant_id, installation_id, source_object, source_id, target_object, action) DO UPDATE SET
			target_id = excluded.target_id, version = excluded.version,
			event_id = excluded.event_id, event_at = excluded.event_at, etag = excluded.etag,
			fields = excluded.fields, updated_at = excluded.updated_at, source_deleted = excluded.source_deleted,
			uncertain = false, uncertain_since = NULL
		WHERE links.version < excluded.version
			OR (links.version = excluded.version AND links.event_at <= excluded.event_at)`
	// markLinkUncertainSQL creates a placeholder (no target, version 0) or
	// flags the existing link, keeping the first mark's time.
	markLinkUncertainSQL = `INSERT INTO links
		(tenant_id, installation_id, source_object, source_id, target_object, action, target_id, version, updated_at,
		 uncertain, uncertain_since)
		VALUES ($1, $2, $3, $4, $5, $6, '', 0, $7, true, $7)
		ON CONFLICT (tenant_id, installation_id, source_object, source_id, target_object, action) DO UPDATE SET
			uncertain = true, uncertain_since = coalesce(links.uncertain_since, excluded.uncertain_since)`
	listUncertainLinksSQL = `SELECT ` + linkColumns + ` FROM links
		WHERE uncertain AND uncertain_since < $1
		ORDER BY uncertain_since, tenant_id, installation_id, source_object, source_id, target_object, action LIMIT $2`
)

func scanLink(s scanner) (store.Link, error) {
	var l store.Link
	var fields []byte
	var updated time.Time
	var since *time.Time
	if err := s.Scan(&l.TenantID, &l.InstallationID, &l.SourceObject, &l.SourceID, &l.TargetObject, &l.Action,
		&l.TargetID, &l.Version, &l.EventID, &l.EventAt, &l.ETag, &fields, &updated, &l.Uncertain, &since, &l.SourceDeleted); err != nil {
		return store.Link{}, err
	}
	l.Fields = row.DecodeJSON(fields)
	l.UpdatedAt = decTime(updated)
	l.UncertainSince = decOptTime(since)
	return l, nil
}

func (q *queries) GetLink(ctx context.Context, key store.LinkKey) (store.Link, error) {
	l, err := scanLink(q.read.QueryRow(ctx, `SELECT `+linkColumns+` FROM links
		WHERE tenant_id = $1 AND installation_id = $2 AND source_object = $3 AND source_id = $4 AND target_object = $5
		AND action = $6`,
		key.TenantID, key.InstallationID, key.SourceObject, key.SourceID, key.TargetObject, key.Action))
	if err != nil {
		return store.Link{}, wrapErr("getting link", err)
	}
	return l, nil
}

func (q *queries) UpsertLink(ctx context.Context, l store.Link) error {
	const op = "upserting link"
	tag, err := q.write.Exec(ctx, upsertLinkSQL,
		l.TenantID, l.InstallationID, l.SourceObject, l.SourceID, l.TargetObject, l.Action, l.TargetID, l.Version,
		l.EventID, l.EventAt, l.ETag, row.JSON(l.Fields), encTime(row.OrNow(l.UpdatedAt, q.now)), l.SourceDeleted)
	if err != nil {
		return wrapErr(op, err)
	}
	if tag.RowsAffected() == 0 {
		return row.StaleLink("postgres", op, l)
	}
	return nil
}

func (q *queries) MarkLinkUncertain(ctx context.Context, key store.LinkKey, since time.Time) error {
	_, err := q.write.Exec(ctx, markLinkUncertainSQL,
		key.TenantID, key.InstallationID, key.SourceObject, key.SourceID, key.TargetObject, key.Action,
		encTime(row.OrNow(since, q.now)))
	return wrapErr("marking link uncertain", err)
}

func (q *queries) ListUncertainLinks(ctx context.Context, before time.Time, limit int) ([]store.Link, error) {
	const op = "listing uncertain links"
	if before.IsZero() {
		return nil, nil
	}
	rows, err := q.read.Query(ctx, listUncertainLinksSQL, encTime(before), row.Limit(limit))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanLink)
	return out, wrapErr(op, err)
}

func (q *queries) ListLinksByTarget(ctx context.Context, tenantID, installationID, targetObject, targetID string) ([]store.Link, error) {
	const op = "listing links by target"
	rows, err := q.read.Query(ctx, `SELECT `+linkColumns+` FROM links
		WHERE tenant_id = $1 AND installation_id = $2 AND target_object = $3 AND target_id = $4
		ORDER BY source_object, source_id, action`, tenantID, installationID, targetObject, targetID)
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanLink)
	return out, wrapErr(op, err)
}

func (q *queries) ListLinksToObject(ctx context.Context, tenantID, installationID, targetObject string, after store.LinkKey, limit int) ([]store.Link, error) {
	const op = "listing links to an object"
	rows, err := q.read.Query(ctx, `SELECT `+linkColumns+` FROM links
		WHERE tenant_id = $1 AND installation_id = $2 AND target_object = $3
		AND (source_object, source_id, action) > ($4, $5, $6)
		ORDER BY source_object, source_id, action LIMIT $7`,
		tenantID, installationID, targetObject, after.SourceObject, after.SourceID, after.Action, row.Limit(limit))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanLink)
	return out, wrapErr(op, err)
}

func (q *queries) MergeLinks(ctx context.Context, tenantID, installationID, targetObject, sourceObject, fromID, toID string) (int, int, error) {
	const op = "merging links"
	r1, err1 := q.write.Exec(ctx, `UPDATE links SET target_id = $1
		WHERE tenant_id = $2 AND installation_id = $3 AND target_object = $4 AND target_id = $5`, toID, tenantID, installationID, targetObject, fromID)
	repointed, err := affected(op, r1, err1)
	if err != nil {
		return 0, 0, err
	}
	r2, err2 := q.write.Exec(ctx, `DELETE FROM links
		WHERE tenant_id = $1 AND installation_id = $2 AND source_object = $3 AND source_id = $4`, tenantID, installationID, sourceObject, fromID)
	deleted, err := affected(op, r2, err2)
	return repointed, deleted, err
}
