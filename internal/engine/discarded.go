package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/store"
)

// ClassJobDiscarded is the record error class of a delivery whose job ran
// out of attempts: something failed that the engine did not classify.
const ClassJobDiscarded = "job_discarded"

// JobDiscarded is queue.Config.OnDiscard: a job River gave up on after its
// last attempt must not disappear into a table nobody reads. A delivery
// job's event gets a record error (retryable like any other) and the
// tenant an alert; any other job kind raises an operator alert.
func (e *Engine) JobDiscarded(ctx context.Context, job queue.Job, lastErr string) {
	if job.Kind != KindDeliver {
		e.deps.Alerter.Raise(ctx, Alert{Class: ClassJobDiscarded,
			Message:     fmt.Sprintf("job %d (%s) was discarded after %d attempts: %s", job.ID, job.Kind, job.Attempt, truncate(lastErr, 300)),
			Remediation: "Look at the job's errors (accord's job queue) and the log; fix the cause, then retry the job.",
			At:          e.deps.Now()})
		return
	}
	var args DeliverArgs
	if err := json.Unmarshal(job.Args, &args); err != nil || args.TenantID == "" {
		e.deps.Logger.ErrorContext(ctx, "discarded delivery job has unreadable args", "job_id", job.ID, "err", err)
		return
	}
	ev, err := e.deps.Store.GetEvent(ctx, args.TenantID, args.EventID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		e.deps.Logger.ErrorContext(ctx, "loading the event of a discarded job", "tenant_id", args.TenantID, "event_id", args.EventID, "err", err)
	}
	msg := fmt.Sprintf("delivery stopped after %d attempts: %s", job.Attempt, truncate(lastErr, 500))
	remedy := "Accord gave up on this event after repeated failures it could not classify. Check the partner's status and the log, then retry."
	jobArgs, _ := json.Marshal(DeliverArgs{TenantID: args.TenantID, EventID: args.EventID})
	installs, _ := e.deps.Store.ListInstallationsByConnection(ctx, args.TenantID, ev.ConnectionID)
	instID := ""
	if len(installs) > 0 {
		instID = installs[0].ID
	}
	re := store.RecordError{
		TenantID: args.TenantID, ID: "rerr_" + uuid.NewString(), InstallationID: instID, EventID: args.EventID,
		SourceID: ev.ObjectID, Class: ClassJobDiscarded, Message: msg, Remediation: remedy,
		Status: store.RecordErrorOpen, JobKind: KindDeliver, JobArgs: jobArgs,
	}
	if err := e.deps.Store.InsertRecordError(ctx, re); err != nil {
		e.deps.Logger.ErrorContext(ctx, "filing the record error of a discarded job", "tenant_id", args.TenantID, "event_id", args.EventID, "err", err)
		re.ID = ""
	}
	_ = e.deps.Store.SetEventsState(ctx, []store.EventRef{{TenantID: args.TenantID, ID: args.EventID, Outcome: outcomeFailed}}, store.EventDone)
	e.metrics.eventOutcome(args.TenantID, outcomeFailed)
	e.deps.Alerter.Raise(ctx, Alert{TenantID: args.TenantID, InstallationID: instID, ConnectionID: ev.ConnectionID,
		SourceID: ev.ObjectID, Class: ClassJobDiscarded, Message: msg, Remediation: remedy, RecordErrorID: re.ID, At: e.deps.Now()})
}
