package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

const notifyEndpointColumns = `tenant_id, id, kind, url, event_types, secret, previous_secret, previous_expires_at, created_at, updated_at`

func scanNotifyEndpoint(s scanner) (store.NotifyEndpoint, error) {
	var e store.NotifyEndpoint
	var types []byte
	var prevExp sql.NullInt64
	var created, updated int64
	if err := s.Scan(&e.TenantID, &e.ID, &e.Kind, &e.URL, &types, &e.Secret, &e.PreviousSecret, &prevExp,
		&created, &updated); err != nil {
		return store.NotifyEndpoint{}, err
	}
	if err := json.Unmarshal(types, &e.EventTypes); err != nil {
		return store.NotifyEndpoint{}, err
	}
	e.PreviousExpiresAt, e.CreatedAt, e.UpdatedAt = decOptTime(prevExp), decTime(created), decTime(updated)
	return e, nil
}

func eventTypesJSON(types []string) string {
	if types == nil {
		types = []string{}
	}
	b, _ := json.Marshal(types)
	return string(b)
}

func (q *queries) CreateNotifyEndpoint(ctx context.Context, e store.NotifyEndpoint) error {
	const op = "creating notify endpoint"
	if err := checkTimes(op, e.PreviousExpiresAt, e.CreatedAt, e.UpdatedAt); err != nil {
		return err
	}
	created, updated := row.Stamps(e.CreatedAt, e.UpdatedAt, q.now)
	_, err := q.write.ExecContext(ctx, `INSERT INTO notify_endpoints (`+notifyEndpointColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.TenantID, e.ID, string(e.Kind), e.URL, eventTypesJSON(e.EventTypes), e.Secret, e.PreviousSecret,
		encOptTime(e.PreviousExpiresAt), encTime(created), encTime(updated))
	return wrapErr(op, err)
}

func (q *queries) GetNotifyEndpoint(ctx context.Context, tenantID, id string) (store.NotifyEndpoint, error) {
	e, err := scanNotifyEndpoint(q.read.QueryRowContext(ctx, `SELECT `+notifyEndpointColumns+` FROM notify_endpoints
		WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if err != nil {
		return store.NotifyEndpoint{}, wrapErr("getting notify endpoint", err)
	}
	return e, nil
}

func (q *queries) ListNotifyEndpoints(ctx context.Context, tenantID string) ([]store.NotifyEndpoint, error) {
	const op = "listing notify endpoints"
	rows, err := q.read.QueryContext(ctx, `SELECT `+notifyEndpointColumns+` FROM notify_endpoints
		WHERE tenant_id = ? ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanNotifyEndpoint)
	return out, wrapErr(op, err)
}

func (q *queries) UpdateNotifyEndpoint(ctx context.Context, e store.NotifyEndpoint) error {
	const op = "updating notify endpoint"
	if err := checkTimes(op, e.PreviousExpiresAt); err != nil {
		return err
	}
	res, err := q.write.ExecContext(ctx, `UPDATE notify_endpoints SET url = ?, event_types = ?, secret = ?,
		previous_secret = ?, previous_expires_at = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		e.URL, eventTypesJSON(e.EventTypes), e.Secret, e.PreviousSecret, encOptTime(e.PreviousExpiresAt),
		encTime(q.now()), e.TenantID, e.ID)
	return oneRow(op, res, err)
}

func (q *queries) DeleteNotifyEndpoint(ctx context.Context, tenantID, id string) error {
	res, err := q.write.ExecContext(ctx, `DELETE FROM notify_endpoints WHERE tenant_id = ? AND id = ?`, tenantID, id)
	return oneRow("deleting notify endpoint", res, err)
}

const notifyDeliveryColumns = `tenant_id, id, endpoint_id, event_type, payload, state, attempts, last_status, last_error, created_at, updated_at`

func scanNotifyDelivery(s scanner) (store.NotifyDelivery, error) {
	var d store.NotifyDelivery
	var payload []byte
	var created, updated int64
	if err := s.Scan(&d.TenantID, &d.ID, &d.EndpointID, &d.EventType, &payload, &d.State, &d.Attempts,
		&d.LastStatus, &d.LastError, &created, &updated); err != nil {
		return store.NotifyDelivery{}, err
	}
	d.Payload = row.DecodeJSON(payload)
	d.CreatedAt, d.UpdatedAt = decTime(created), decTime(updated)
	return d, nil
}

func (q *queries) InsertNotifyDelivery(ctx context.Context, d store.NotifyDelivery) error {
	const op = "inserting notify delivery"
	if err := checkTimes(op, d.CreatedAt, d.UpdatedAt); err != nil {
		return err
	}
	if d.State == "" {
		d.State = store.NotifyPending
	}
	created, updated := row.Stamps(d.CreatedAt, d.UpdatedAt, q.now)
	_, err := q.write.ExecContext(ctx, `INSERT INTO notify_deliveries (`+notifyDeliveryColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.TenantID, d.ID, d.EndpointID, d.EventType, []byte(d.Payload), string(d.State), d.Attempts, d.LastStatus,
		d.LastError, encTime(created), encTime(updated))
	return wrapErr(op, err)
}

func (q *queries) GetNotifyDelivery(ctx context.Context, tenantID, id string) (store.NotifyDelivery, error) {
	d, err := scanNotifyDelivery(q.read.QueryRowContext(ctx, `SELECT `+notifyDeliveryColumns+` FROM notify_deliveries
		WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if err != nil {
		return store.NotifyDelivery{}, wrapErr("getting notify delivery", err)
	}
	return d, nil
}

func (q *queries) UpdateNotifyDelivery(ctx context.Context, d store.NotifyDelivery) error {
	res, err := q.write.ExecContext(ctx, `UPDATE notify_deliveries SET state = ?, attempts = ?, last_status = ?,
		last_error = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		string(d.State), d.Attempts, d.LastStatus, d.LastError, encTime(q.now()), d.TenantID, d.ID)
	return oneRow("updating notify delivery", res, err)
}

func (q *queries) ListNotifyDeliveries(ctx context.Context, tenantID, endpointID string, limit int) ([]store.NotifyDelivery, error) {
	const op = "listing notify deliveries"
	rows, err := q.read.QueryContext(ctx, `SELECT `+notifyDeliveryColumns+` FROM notify_deliveries
		WHERE tenant_id = ? AND endpoint_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, tenantID, endpointID, row.Limit(limit))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanNotifyDelivery)
	return out, wrapErr(op, err)
}

func (q *queries) ClaimNotifyDeliveries(ctx context.Context, limit int) ([]store.NotifyDelivery, error) {
	const op = "claiming notify deliveries"
	rows, err := q.write.QueryContext(ctx, `UPDATE notify_deliveries SET state = 'queued', updated_at = ?
		WHERE (tenant_id, id) IN (SELECT tenant_id, id FROM notify_deliveries WHERE state = 'pending'
			ORDER BY created_at LIMIT ?)
		RETURNING `+notifyDeliveryColumns, encTime(q.now()), row.Limit(limit))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanNotifyDelivery)
	return out, wrapErr(op, err)
}
