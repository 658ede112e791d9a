package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

const notifyEndpointColumns = `tenant_id, id, kind, url, event_types, secret, previous_secret, previous_expires_at, created_at, updated_at`

func scanNotifyEndpoint(s scanner) (store.NotifyEndpoint, error) {
	var e store.NotifyEndpoint
	var types []byte
	var prevExp *time.Time
	var created, updated time.Time
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
	created, updated := row.Stamps(e.CreatedAt, e.UpdatedAt, q.now)
	_, err := q.write.Exec(ctx, `INSERT INTO notify_endpoints (`+notifyEndpointColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.TenantID, e.ID, string(e.Kind), e.URL, eventTypesJSON(e.EventTypes), e.Secret, e.PreviousSecret,
		encOptTime(e.PreviousExpiresAt), encTime(created), encTime(updated))
	return wrapErr("creating notify endpoint", err)
}

func (q *queries) GetNotifyEndpoint(ctx context.Context, tenantID, id string) (store.NotifyEndpoint, error) {
	e, err := scanNotifyEndpoint(q.read.QueryRow(ctx, `SELECT `+notifyEndpointColumns+` FROM notify_endpoints
		WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return store.NotifyEndpoint{}, wrapErr("getting notify endpoint", err)
	}
	return e, nil
}

func (q *queries) ListNotifyEndpoints(ctx context.Context, tenantID string) ([]store.NotifyEndpoint, error) {
	const op = "listing notify endpoints"
	rows, err := q.read.Query(ctx, `SELECT `+notifyEndpointColumns+` FROM notify_endpoints
		WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanNotifyEndpoint)
	return out, wrapErr(op, err)
}

func (q *queries) UpdateNotifyEndpoint(ctx context.Context, e store.NotifyEndpoint) error {
	tag, err := q.write.Exec(ctx, `UPDATE notify_endpoints SET url = $1, event_types = $2, secret = $3,
		previous_secret = $4, previous_expires_at = $5, updated_at = $6 WHERE tenant_id = $7 AND id = $8`,
		e.URL, eventTypesJSON(e.EventTypes), e.Secret, e.PreviousSecret, encOptTime(e.PreviousExpiresAt),
		encTime(q.now()), e.TenantID, e.ID)
	return oneRow("updating notify endpoint", tag, err)
}

func (q *queries) DeleteNotifyEndpoint(ctx context.Context, tenantID, id string) error {
	tag, err := q.write.Exec(ctx, `DELETE FROM notify_endpoints WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	return oneRow("deleting notify endpoint", tag, err)
}

const notifyDeliveryColumns = `tenant_id, id, endpoint_id, event_type, payload, state, attempts, last_status, last_error, created_at, updated_at`

func scanNotifyDelivery(s scanner) (store.NotifyDelivery, error) {
	var d store.NotifyDelivery
	var payload []byte
	var created, updated time.Time
	if err := s.Scan(&d.TenantID, &d.ID, &d.EndpointID, &d.EventType, &payload, &d.State, &d.Attempts,
		&d.LastStatus, &d.LastError, &created, &updated); err != nil {
		return store.NotifyDelivery{}, err
	}
	d.Payload = row.DecodeJSON(payload)
	d.CreatedAt, d.UpdatedAt = decTime(created), decTime(updated)
	return d, nil
}

func (q *queries) InsertNotifyDelivery(ctx context.Context, d store.NotifyDelivery) error {
	if d.State == "" {
		d.State = store.NotifyPending
	}
	created, updated := row.Stamps(d.CreatedAt, d.UpdatedAt, q.now)
	_, err := q.write.Exec(ctx, `INSERT INTO notify_deliveries (`+notifyDeliveryColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		d.TenantID, d.ID, d.EndpointID, d.EventType, []byte(d.Payload), string(d.State), d.Attempts, d.LastStatus,
		d.LastError, encTime(created), encTime(updated))
	return wrapErr("inserting notify delivery", err)
}

func (q *queries) GetNotifyDelivery(ctx context.Context, tenantID, id string) (store.NotifyDelivery, error) {
	d, err := scanNotifyDelivery(q.read.QueryRow(ctx, `SELECT `+notifyDeliveryColumns+` FROM notify_deliveries
		WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return store.NotifyDelivery{}, wrapErr("getting notify delivery", err)
	}
	return d, nil
}

func (q *queries) UpdateNotifyDelivery(ctx context.Context, d store.NotifyDelivery) error {
	tag, err := q.write.Exec(ctx, `UPDATE notify_deliveries SET state = $1, attempts = $2, last_status = $3,
		last_error = $4, updated_at = $5 WHERE tenant_id = $6 AND id = $7`,
		string(d.State), d.Attempts, d.LastStatus, d.LastError, encTime(q.now()), d.TenantID, d.ID)
	return oneRow("updating notify delivery", tag, err)
}

func (q *queries) ListNotifyDeliveries(ctx context.Context, tenantID, endpointID string, limit int) ([]store.NotifyDelivery, error) {
	const op = "listing notify deliveries"
	rows, err := q.read.Query(ctx, `SELECT `+notifyDeliveryColumns+` FROM notify_deliveries
		WHERE tenant_id = $1 AND endpoint_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3`, tenantID, endpointID, row.Limit(limit))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanNotifyDelivery)
	return out, wrapErr(op, err)
}

func (q *queries) ClaimNotifyDeliveries(ctx context.Context, limit int) ([]store.NotifyDelivery, error) {
	const op = "claiming notify deliveries"
	rows, err := q.write.Query(ctx, `WITH batch AS (
			SELECT tenant_id, id FROM notify_deliveries WHERE state = 'pending'
			ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
		UPDATE notify_deliveries AS d SET state = 'queued', updated_at = $1
		FROM batch WHERE d.tenant_id = batch.tenant_id AND d.id = batch.id
		RETURNING d.tenant_id, d.id, d.endpoint_id, d.event_type, d.payload, d.state, d.attempts, d.last_status,
			d.last_error, d.created_at, d.updated_at`, encTime(q.now()), row.Limit(limit))
	if err != nil {
		return nil, wrapErr(op, err)
	}
	out, err := collect(rows, scanNotifyDelivery)
	return out, wrapErr(op, err)
}
