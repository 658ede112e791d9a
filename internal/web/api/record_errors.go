package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/connection"
	"github.com/accordhq/accord/internal/store"
)

// RecordError is the API's view of a record that failed, with the
// remediation an admin follows before retrying it.
type RecordError struct {
	ID             string `json:"id"`
	InstallationID string `json:"installation_id"`
	EventID        string `json:"event_id,omitempty"`
	Object         string `json:"object"`
	SourceID       string `json:"source_id"`
	Class          string `json:"class"`
	Message        string `json:"message"`
	Remediation    string `json:"remediation"`
	Status         string `json:"status"`
	// HeldEvents, on an open outage (auth or permission: the connection
	// is paused), is how many of the installation's events wait for the
	// reconnect: delivered then, nothing dropped. Absent otherwise.
	HeldEvents *int `json:"held_events,omitempty"`
	// Sample is the failed record as stored: minimised and redacted by
	// field type before it was written (docs/data-handling.md).
	Sample    json.RawMessage `json:"sample,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// withHeld fills HeldEvents for an open outage record error.
func (a *API) withHeld(ctx context.Context, tenant string, e store.RecordError, out RecordError) RecordError {
	if e.Status != store.RecordErrorOpen || (e.Class != "auth" && e.Class != "permission") || e.InstallationID == "" {
		return out
	}
	inst, err := a.deps.Store.GetInstallation(ctx, tenant, e.InstallationID)
	if err != nil {
		return out
	}
	ids := make([]string, 0, len(inst.Connections))
	for _, id := range inst.Connections {
		ids = append(ids, id)
	}
	if n, err := a.deps.Store.CountWaitingEvents(ctx, tenant, ids); err == nil {
		out.HeldEvents = &n
	}
	return out
}

func toRecordError(e store.RecordError) RecordError {
	return RecordError{ID: e.ID, InstallationID: e.InstallationID, EventID: e.EventID, Object: e.Object, SourceID: e.SourceID,
		Class: e.Class, Message: e.Message, Remediation: e.Remediation, Status: string(e.Status), Sample: e.Sample,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

func (a *API) listRecordErrors(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.RecordErrorFilter{InstallationID: q.Get("installation_id"), Status: store.RecordErrorStatus(q.Get("status")), Class: q.Get("class")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return badRequest("limit %q: use a number from 1 to 1000", l)
		}
		f.Limit = n
	}
	list, err := a.deps.Store.ListRecordErrors(r.Context(), r.PathValue("tenant"), f)
	if err != nil {
		return err
	}
	out := make([]RecordError, 0, len(list))
	for _, e := range list {
		out = append(out, a.withHeld(r.Context(), r.PathValue("tenant"), e, toRecordError(e)))
	}
	writeJSON(w, http.StatusOK, map[string]any{"record_errors": out})
	return nil
}

func (a *API) getRecordError(w http.ResponseWriter, r *http.Request) error {
	e, err := a.deps.Store.GetRecordError(r.Context(), r.PathValue("tenant"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.withHeld(r.Context(), r.PathValue("tenant"), e, toRecordError(e)))
	return nil
}

// retryRecordError is POST …/record-errors/{id}/retry (RetryRecordError).
func (a *API) retryRecordError(w http.ResponseWriter, r *http.Request) error {
	tenant := r.PathValue("tenant")
	if tenant == "" {
		tenant = r.URL.Query().Get("tenant_id")
	}
	if tenant == "" {
		return badRequest("name the tenant: POST /api/v1/tenants/{tenant}/record-errors/{id}/retry, or add ?tenant_id=")
	}
	re, err := a.RetryRecordError(r.Context(), tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, toRecordError(re))
	return nil
}

// RetryRecordError queues the failed record's job again and returns the
// record error, now retrying. For a permission error it also lifts the
// pause on the installation's connections that were paused for missing
// scopes: retrying is the admin saying the scope is back; if it is not,
// the next write pauses them again with a fresh alert. A connection that
// needs reconnecting stays paused: only reconnecting fixes that (an *Error
// with status 409). The retried job is new and runs at once; the other
// jobs paused on a lifted connection are handed to Deps.OnConnectionResumed.
// The UI's retry button calls it too; the caller authorises and audits.
func (a *API) RetryRecordError(ctx context.Context, tenant, id string) (store.RecordError, error) {
	re, err := a.deps.Store.GetRecordError(ctx, tenant, id)
	if err != nil {
		return store.RecordError{}, err
	}
	if re.Status == store.RecordErrorResolved {
		return store.RecordError{}, &Error{Status: http.StatusConflict, Msg: "record error is already resolved"}
	}
	inst, err := a.deps.Store.GetInstallation(ctx, tenant, re.InstallationID)
	if err != nil {
		return store.RecordError{}, err
	}
	var args map[string]any
	if err := json.Unmarshal(re.JobArgs, &args); err != nil || re.JobKind == "" {
		return store.RecordError{}, &Error{Status: http.StatusConflict, Msg: "record error carries no retryable job"}
	}
	args["record_error_id"] = re.ID

	var resumed []store.Connection
	// The connection lifecycle lifts the pause (row and audit entry) in
	// the transaction that queues the retry.
	life := connection.New(a.deps.Store, nil)
	err = a.deps.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		resumed = resumed[:0]
		for _, connID := range inst.Connections {
			c, changed, err := life.ResumeInTx(ctx, tx, tenant, connID, "admin api")
			if errors.Is(err, connection.ErrNotPaused) {
				return &Error{Status: http.StatusConflict, Msg: fmt.Sprintf("connection %s needs reconnecting before a retry can succeed: POST /api/v1/tenants/%s/connections/%s/reconnect", connID, tenant, connID)}
			}
			if err != nil {
				return err
			}
			if changed {
				resumed = append(resumed, c)
			}
		}
		if _, err := a.deps.Queue.InsertTx(ctx, tx, rawArgs{kind: re.JobKind, args: args}, &river.InsertOpts{MaxAttempts: 1000}); err != nil {
			return fmt.Errorf("queueing retry: %w", err)
		}
		return tx.SetRecordErrorStatus(ctx, tenant, re.ID, store.RecordErrorRetrying)
	})
	if err != nil {
		return store.RecordError{}, err
	}
	if a.deps.OnConnectionResumed != nil {
		// The pause is lifted and committed: finish waking its work even if
		// the admin's client goes away.
		for _, c := range resumed {
			a.deps.OnConnectionResumed(context.WithoutCancel(ctx), c)
		}
	}
	re.Status = store.RecordErrorRetrying
	return re, nil
}

// rawArgs re-enqueues a job from its stored kind and arguments without the
// API knowing every job type.
type rawArgs struct {
	kind string
	args map[string]any
}

func (r rawArgs) Kind() string                 { return r.kind }
func (r rawArgs) MarshalJSON() ([]byte, error) { return json.Marshal(r.args) }
