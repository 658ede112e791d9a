package notify

import (
	"encoding/json"
	"slices"
	"time"
)

// Event types.
const (
	ConnectionStateChanged  = "connection.state_changed"
	InstallationPaused      = "installation.paused"
	InstallationResumed     = "installation.resumed"
	InstallationUninstalled = "installation.uninstalled"
	RecordErrorOpened       = "record_error.opened"
	RecordErrorResolved     = "record_error.resolved"
	SyncCompleted           = "sync.completed"
	PartnerDegraded         = "partner.degraded"
	PartnerRecovered        = "partner.recovered"
)

// EventTypes lists every event type, in a stable order.
func EventTypes() []string {
	return []string{ConnectionStateChanged, InstallationPaused, InstallationResumed, InstallationUninstalled,
		RecordErrorOpened, RecordErrorResolved, SyncCompleted, PartnerDegraded, PartnerRecovered}
}

// Known reports whether t is an event type.
func Known(t string) bool { return slices.Contains(EventTypes(), t) }

// Message is the body of every notification (the Standard Webhooks
// envelope: type, timestamp, data). Data never holds record contents,
// partner messages or secrets: ids, states and classes only.
type Message struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	TenantID  string    `json:"tenant_id"`
	Data      any       `json:"data"`
}

// ConnectionData is the data of connection.state_changed.
type ConnectionData struct {
	ConnectionID  string `json:"connection_id"`
	Provider      string `json:"provider"`
	State         string `json:"state"`
	PreviousState string `json:"previous_state"`
}

// InstallationData is the data of installation.paused, .resumed and
// .uninstalled.
type InstallationData struct {
	InstallationID string `json:"installation_id"`
	Contract       string `json:"contract"`
	State          string `json:"state"`
	PreviousState  string `json:"previous_state"`
}

// RecordErrorData is the data of record_error.opened and .resolved.
type RecordErrorData struct {
	RecordErrorID  string `json:"record_error_id"`
	InstallationID string `json:"installation_id"`
	Object         string `json:"object"`
	Class          string `json:"class"`
	Status         string `json:"status"`
}

// SyncData is the data of sync.completed: one schedule trigger's run
// read every page.
type SyncData struct {
	InstallationID string    `json:"installation_id"`
	Trigger        string    `json:"trigger"`
	RecordsDone    int64     `json:"records_done"`
	Changes        int64     `json:"changes"`
	CompletedAt    time.Time `json:"completed_at"`
}

// PartnerData is the data of partner.degraded and partner.recovered: a
// partner the tenant's installations use is (or no longer is) failing or
// slow for every tenant, as Accord's status monitor judges it.
type PartnerData struct {
	Provider string `json:"provider"`
	// Status is "degraded" or "healthy".
	Status string `json:"status"`
	// Reason is why it is degraded: "errors" (a large share of calls
	// failed) or "latency" (writes are slow); empty once recovered.
	Reason    string    `json:"reason,omitempty"`
	ChangedAt time.Time `json:"changed_at"`
}

// Sample returns an example message of type t, for an iPaaS trigger's
// field mapping; false for an unknown type.
func Sample(t string) (json.RawMessage, bool) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var data any
	switch t {
	case ConnectionStateChanged:
		data = ConnectionData{ConnectionID: "conn_8f14e45f", Provider: "helpdesk", State: "needs_reconnect", PreviousState: "active"}
	case InstallationPaused:
		data = InstallationData{InstallationID: "inst_c9f0f895", Contract: "escalation", State: "paused", PreviousState: "active"}
	case InstallationResumed:
		data = InstallationData{InstallationID: "inst_c9f0f895", Contract: "escalation", State: "active", PreviousState: "paused"}
	case InstallationUninstalled:
		data = InstallationData{InstallationID: "inst_c9f0f895", Contract: "escalation", State: "uninstalled", PreviousState: "active"}
	case RecordErrorOpened:
		data = RecordErrorData{RecordErrorID: "rerr_45c48cce", InstallationID: "inst_c9f0f895", Object: "ticket", Class: "validation", Status: "open"}
	case RecordErrorResolved:
		data = RecordErrorData{RecordErrorID: "rerr_45c48cce", InstallationID: "inst_c9f0f895", Object: "ticket", Class: "validation", Status: "resolved"}
	case SyncCompleted:
		data = SyncData{InstallationID: "inst_c9f0f895", Trigger: "customer", RecordsDone: 250, Changes: 3, CompletedAt: at}
	case PartnerDegraded:
		data = PartnerData{Provider: "incidents", Status: "degraded", Reason: "errors", ChangedAt: at}
	case PartnerRecovered:
		data = PartnerData{Provider: "incidents", Status: "healthy", ChangedAt: at}
	default:
		return nil, false
	}
	raw, _ := json.Marshal(Message{Type: t, Timestamp: at, TenantID: "acme", Data: data})
	return raw, true
}
