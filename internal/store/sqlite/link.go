package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

const linkColumns = `tenant_id, installation_id, source_object, source_id, target_object, action,
	target_id, version, event_id, event_at, etag, fields, updated_at, uncertain, uncertain_since, source_deleted`

const (
	getLinkSQL = `SELECT ` + linkColumns + ` FROM links
		WHERE tenant_id = ? AND installation_id = ? AND source_object = ? AND source_id = ? AND target_object = ?
		AND action = ?`
	// upsertLinkSQL is the fence: the DO UPDATE's WHERE leaves a newer
	// stored (version, receipt) alone, and the caller learns so from the row count.
	// A write that lands clears the uncertain flag: its answer came.
	upsertLinkSQL = `INSERT INTO links
		(tenant_id, installation_id, source_object, source_id, target_object, action, target_id, version, event_id, event_at, etag, fields, updated_at, source_deleted)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, installation_id, source_object, source_id, target_object, action) DO UPDATE SET
			target_id = excluded.target_id, version = excluded.version,
			event_id = excluded.event_id, event_at = excluded.event_at, etag = excluded.etag,
			fields = excluded.fields, updated_at = excluded.updated_at, source_deleted = excluded.source_deleted,
			uncertain = 0, uncertain_since = NULL
		WHERE links.version < excluded.version
			OR (links.version = excluded.version AND links.event_at <= excluded.event_at)`
	// markLinkUncertainSQL creates a placeholder (no target, version 0) or
	// flags the existing link, keeping the first mark's time.
	markLinkUncertainSQL = `INSERT INTO links
		(tenant_id, installation_id, source_object, source_id, target_object, action, target_id, version, updated_at,
		 uncertain, uncertain_since)
		VALUES (?, ?, ?, ?, ?, ?, '', 0, ?, 1, ?)
		ON CONFLICT (tenant_id, installation_id, source_object, source_id, target_object, action) DO UPDATE SET
			uncertain = 1, uncertain_since = coalesce(links.uncertain_since, excluded.uncertain_since)`
	// listUncertainLinksSQL names uncertain = 1 literally, for the partial
	// index links_uncertain.
	listUncertainLinksSQL = `SELECT ` + linkColumns + ` FROM links
		WHERE uncertain = 1 AND uncertain_since < ?
		ORDER BY uncertain_since, tenant_id, installation_id, source_object, source_id, target_object, action LIMIT ?`
)

func scanLink(s scanner) (store.Link, error) {
	var l store.Link
	var fields []byte
	var updated int64
	var since sql.NullInt64
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
	l, err := scanLink(queryRowPrepared(ctx, q.read, getLinkSQL,
		key.TenantID, key.InstallationID, key.SourceObject, key.SourceID, key.TargetObject, key.Action))
	if err != nil {
		return store.Link{}, wrapErr("getting link", err)
	}
	return l, nil
}

func (q *queries) UpsertLink(ctx context.Context, l store.Link) error {
	const op = "upserting link"
	if err := checkTimes(op, l.UpdatedAt); err != nil {
		return err
	}
	res, err := execPrepared(ctx, q.write, upsertLinkSQL,
		l.TenantID, l.InstallationID, l.SourceObject, l.SourceID, l.TargetObject, l.Action, l.TargetID, l.Version,
		l.EventID, l.EventAt, l.ETag, row.JSON(l.Fields), encTime(row.OrNow(l.UpdatedAt, q.now)), l.SourceDeleted)
	if err != nil {
		return wrapErr(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrapErr(op, err)
	}
	if n == 0 {
		return row.StaleLink("sqlite", op, l)
	}
	return nil
}

func (q *queries) MarkLinkUncertain(ctx context.Context, key store.LinkKey, since time.Time) error {
	const op = "marking link uncertain"
	if err := checkTimes(op, since); err != nil {
		return err
	}
	ts := encTime(row.OrNow(since, q.now))
	_, err := execPrepared(ctx, q.write, markLinkUncertainSQL,
		key.TenantID, key.InstallationID, key.SourceObject, key.SourceID, key.TargetObject, key.Action, ts, ts)
	return wrapErr(op, err)
}

func (q *queries) ListUncertainLinks(ctx context.Context, before time.Time, limit int) ([]store.Link, error) {
	const op = "listing uncertain links"
	if before.IsZero() {
		return nil, nil
	}
	if err := checkTimes(op, before); err != nil {
		return nil, err
	}
	rows, err := queryPrepared(ctx, q.read, listUncertainLinksSQL, encTime(before), row.Limit(limit))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanLink)
	return out, wrapErr(op, err)
}

func (q *queries) ListLinksByTarget(ctx context.Context, tenantID, installationID, targetObject, targetID string) ([]store.Link, error) {
	const op = "listing links by target"
	// INDEXED BY: without statistics the planner prefers the primary key,
	// whose order matches the ORDER BY, and scans every link of the
	// installation for each lookup, making reconciliation and two-way
	// drift checks quadratic in the number of links.
	rows, err := queryPrepared(ctx, q.read, `SELECT `+linkColumns+` FROM links INDEXED BY links_target
		WHERE tenant_id = ? AND installation_id = ? AND target_object = ? AND target_id = ?
		ORDER BY source_object, source_id, action`, tenantID, installationID, targetObject, targetID)
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanLink)
	return out, wrapErr(op, err)
}

func (q *queries) ListLinksToObject(ctx context.Context, tenantID, installationID, targetObject string, after store.LinkKey, limit int) ([]store.Link, error) {
	const op = "listing links to an object"
	rows, err := q.read.QueryContext(ctx, `SELECT `+linkColumns+` FROM links
		WHERE tenant_id = ? AND installation_id = ? AND target_object = ?
		AND (source_object, source_id, action) > (?, ?, ?)
		ORDER BY source_object, source_id, action LIMIT ?`,
		tenantID, installationID, targetObject, after.SourceObject, after.SourceID, after.Action, row.Limit(limit))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanLink)
	return out, wrapErr(op, err)
}

func (q *queries) MergeLinks(ctx context.Context, tenantID, installationID, targetObject, sourceObject, fromID, toID string) (int, int, error) {
	const op = "merging links"
	r1, err1 := q.write.ExecContext(ctx, `UPDATE links SET target_id = ?
		WHERE tenant_id = ? AND installation_id = ? AND target_object = ? AND target_id = ?`, toID, tenantID, installationID, targetObject, fromID)
	repointed, err := affected(op, r1, err1)
	if err != nil {
		return 0, 0, err
	}
	r2, err2 := q.write.ExecContext(ctx, `DELETE FROM links
		WHERE tenant_id = ? AND installation_id = ? AND source_object = ? AND source_id = ?`, tenantID, installationID, sourceObject, fromID)
	deleted, err := affected(op, r2, err2)
	return repointed, deleted, err
}
