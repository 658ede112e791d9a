package ui

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/accordhq/accord/internal/store"
)

// evidenceRecordError is record_error.json in an evidence bundle.
type evidenceRecordError struct {
	TenantID        string `json:"tenant_id"`
	ID              string `json:"record_error_id"`
	InstallationID  string `json:"installation_id"`
	Contract        string `json:"contract"`
	ContractVersion string `json:"contract_version"`
	EventID         string `json:"event_id,omitempty"`
	Object          string `json:"object"`
	SourceID        string `json:"source_id"`
	Class           string `json:"class"`
	PartnerMessage  string `json:"partner_message"`
	Remediation     string `json:"remediation"`
	Status          string `json:"status"`
	// Sample was minimised and redacted before it was stored; the display
	// rule runs over it again all the same.
	Sample        any       `json:"sample,omitempty"`
	FirstFailedAt time.Time `json:"first_failed_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

type evidenceConnection struct {
	ID            string    `json:"connection_id"`
	Role          string    `json:"role_in_contract"`
	Provider      string    `json:"provider"`
	State         string    `json:"state"`
	StateReason   string    `json:"state_reason,omitempty"`
	GrantedScopes []string  `json:"granted_scopes"`
	UpdatedAt     time.Time `json:"updated_at"`
}

type evidenceEvent struct {
	ID            string    `json:"event_id"`
	ConnectionID  string    `json:"connection_id"`
	PartnerID     string    `json:"partner_event_id"`
	Type          string    `json:"type"`
	ObjectID      string    `json:"object_id"`
	ObjectVersion int64     `json:"object_version"`
	ReceivedAt    time.Time `json:"received_at"`
	State         string    `json:"state"`
	Outcome       string    `json:"outcome,omitempty"`
	Payload       any       `json:"payload_redacted"`
}

// recordErrorEvidence is the evidence bundle of one record error: a zip a
// tenant's admin attaches when escalating to the partner. It carries ids,
// timestamps, the partner's answer and the triggering payload with
// credentials and personal identifiers removed; never a secret.
func (u *UI) recordErrorEvidence(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	re, inst, err := u.recordErrorAt(r, v)
	if err != nil {
		return err
	}
	files := map[string]any{
		"record_error.json": evidenceRecordError{TenantID: re.TenantID, ID: re.ID, InstallationID: re.InstallationID,
			Contract: inst.Contract, ContractVersion: inst.ContractVersion, EventID: re.EventID, Object: re.Object,
			SourceID: re.SourceID, Class: re.Class, PartnerMessage: redactText(re.Message), Remediation: re.Remediation,
			Status: string(re.Status), Sample: redactJSON(re.Sample), FirstFailedAt: re.CreatedAt, UpdatedAt: re.UpdatedAt},
	}
	var conns []evidenceConnection
	for name, id := range inst.Connections {
		c, err := u.deps.Store.GetConnection(ctx, v.Tenant, id)
		if err != nil {
			return err
		}
		conns = append(conns, evidenceConnection{ID: c.ID, Role: name, Provider: c.Provider, State: string(c.State),
			StateReason: c.StateReason, GrantedScopes: c.GrantedScopes, UpdatedAt: c.UpdatedAt})
	}
	files["connections.json"] = conns
	eventNote := "no event: the record failed in a sync job"
	if re.EventID != "" {
		e, err := u.deps.Store.GetEvent(ctx, v.Tenant, re.EventID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			eventNote = "the event " + re.EventID + " is past its retention and no longer stored"
		case err != nil:
			return err
		default:
			eventNote = "event.json: the event that triggered the write"
			files["event.json"] = evidenceEvent{ID: e.ID, ConnectionID: e.ConnectionID, PartnerID: e.DedupKey, Type: e.Type,
				ObjectID: e.ObjectID, ObjectVersion: e.ObjectVersion, ReceivedAt: e.ReceivedAt, State: string(e.State),
				Outcome: e.Outcome, Payload: redactJSON(e.Payload)}
		}
	}
	now := u.deps.Now().UTC()
	readme := fmt.Sprintf(`Accord evidence bundle
Tenant:        %s
Record error:  %s (%s)
Generated at:  %s

record_error.json  what failed, the partner's message, timestamps and ids
connections.json   the installation's connections and their state (no credentials)
%s

Field values that look like credentials or personal identifiers are
replaced with [redacted]; e-mail addresses are masked.
`, re.TenantID, re.ID, re.Class, now.Format(time.RFC3339), eventNote)

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, body []byte) error {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now})
		if err != nil {
			return err
		}
		_, err = f.Write(body)
		return err
	}
	if err := add("README.txt", []byte(readme)); err != nil {
		return err
	}
	for _, name := range []string{"record_error.json", "connections.json", "event.json"} {
		doc, ok := files[name]
		if !ok {
			continue
		}
		body, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		if err := add(name, append(body, '\n')); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="accord-evidence-%s.zip"`, safeFileName(re.ID)))
	_, _ = w.Write(buf.Bytes())
	return nil
}

// safeFileName keeps letters, digits, '-' and '_'.
func safeFileName(s string) string {
	out := []rune{}
	for _, c := range s {
		if c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			out = append(out, c)
		}
	}
	return string(out)
}
