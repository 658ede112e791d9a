package store

import (
	"encoding/json"
	"time"
)

// NotifyKind is what a notification endpoint is for.
type NotifyKind string

// Notification endpoint kinds.
const (
	// NotifyWebhook is a host product's change-notification endpoint.
	NotifyWebhook NotifyKind = "webhook"
	// NotifyRESTHook is an iPaaS subscription (Zapier's REST Hooks): one
	// event type, removed by its subscriber or when its target answers 410.
	NotifyRESTHook NotifyKind = "rest_hook"
)

// NotifyEndpoint is where a tenant's integration events are sent.
type NotifyEndpoint struct {
	TenantID string
	ID       string
	Kind     NotifyKind
	URL      string
	// EventTypes are the event types sent; empty means all.
	EventTypes []string
	// Secret is the signing secret, sealed by the vault (opaque here).
	Secret []byte
	// PreviousSecret is the secret before the last rotation, still signing
	// until PreviousExpiresAt so receivers can roll over; nil when none.
	PreviousSecret    []byte
	PreviousExpiresAt time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// NotifyDeliveryState is where a delivery is.
type NotifyDeliveryState string

// Delivery states: pending (committed, not yet queued) → queued →
// delivered or failed (attempts exhausted).
const (
	NotifyPending   NotifyDeliveryState = "pending"
	NotifyQueued    NotifyDeliveryState = "queued"
	NotifyDelivered NotifyDeliveryState = "delivered"
	NotifyFailed    NotifyDeliveryState = "failed"
)

// NotifyDelivery is one message to one endpoint, and its log.
type NotifyDelivery struct {
	TenantID   string
	ID         string // the Standard Webhooks message id
	EndpointID string
	EventType  string
	Payload    json.RawMessage
	State      NotifyDeliveryState
	Attempts   int
	LastStatus int
	LastError  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}
