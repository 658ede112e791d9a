package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"time"

	"github.com/google/uuid"

	"github.com/accordhq/accord/internal/connection"
	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/privacy"
	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// actionResult is how one run of an action ended. When snooze is 0 and
// retry nil the action is final and outcome says how.
type actionResult struct {
	snooze  time.Duration // > 0: try the job again after this, no attempt used
	retry   error         // != nil: transient, retry with backoff
	outcome string        // the final outcome (outcome* constants)
}

func (r actionResult) final() bool { return r.snooze == 0 && r.retry == nil }

func (e *Engine) deliver(ctx context.Context, args DeliverArgs) (string, error) {
	st := e.deps.Store
	if args.ObjectID != "" {
		// Announced before any I/O, so a newer version fetched in the same
		// batch is seen by an older one however the reads interleave.
		early := store.Event{TenantID: args.TenantID, ConnectionID: args.ConnectionID, ObjectID: args.ObjectID}
		defer e.versions.enter(objectKey(early), args.order())()
	}
	ev, err := st.GetEvent(ctx, args.TenantID, args.EventID)
	if errors.Is(err, store.ErrNotFound) {
		return "", queue.Cancel(fmt.Errorf("event %s of tenant %s no longer exists", args.EventID, args.TenantID))
	}
	if err != nil {
		return "", fmt.Errorf("loading event: %w", err)
	}
	return e.deliverEvent(ctx, ev, args)
}

// deliverEvent applies ev to every matching installation's actions and,
// once nothing is left to wait for, returns the event's final outcome. The
// fast path calls it with the event it just committed, sparing the read.
// A returned error steers the job (snooze, retry, cancel); the outcome is
// empty unless the delivery is final.
func (e *Engine) deliverEvent(ctx context.Context, ev store.Event, args DeliverArgs) (outcome string, err error) {
	defer func() {
		if r := recover(); r != nil {
			// A bug must cost one event, visibly, not the process.
			e.deps.Logger.ErrorContext(ctx, "delivering an event panicked; the event is failed", "tenant_id", ev.TenantID,
				"event_id", ev.ID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			e.metrics.panic()
			e.metrics.eventOutcome(ev.TenantID, outcomeFailed)
			outcome, err = outcomeFailed, queue.Cancel(fmt.Errorf("event %s: internal error: %v", ev.ID, r))
		}
	}()
	st := e.deps.Store
	// Newer versions of this object already being delivered go first.
	objKey, ord := objectKey(ev), eventOrder(ev)
	leave := e.versions.enter(objKey, ord)
	defer leave()
	waitCtx, cancel := context.WithTimeout(ctx, e.cfg.LockWait)
	err = e.versions.waitNewer(waitCtx, objKey, ord)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", queue.Snooze(time.Second)
	}
	test := args.TestInstallation != ""
	var installs []store.Installation
	if test {
		// Read afresh: the wizard may have just created it.
		inst, err := st.GetInstallation(ctx, ev.TenantID, args.TestInstallation)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("loading the test's installation: %w", err)
		}
		if err == nil {
			installs = []store.Installation{inst}
		}
	} else if installs, err = e.cache.installations(ctx, ev.TenantID, ev.ConnectionID); err != nil {
		return "", fmt.Errorf("listing installations: %w", err)
	}
	var payload map[string]any
	if err := json.Unmarshal(ev.Payload, &payload); err != nil {
		e.deps.Logger.ErrorContext(ctx, "stored event payload is not a JSON object; the event is failed", "tenant_id", ev.TenantID, "event_id", ev.ID, "err", err)
		e.metrics.eventOutcome(ev.TenantID, outcomeFailed)
		return outcomeFailed, queue.Cancel(fmt.Errorf("event %s: payload is not a JSON object: %w", ev.ID, err))
	}

	var snooze time.Duration
	var retry error
	wait := func(d time.Duration) {
		if snooze == 0 || d < snooze {
			snooze = d
		}
	}
	var tally eventTally
	enriched := newEnrichCache()
	for _, inst := range installs {
		if inst.State != store.InstallationActive && inst.State != store.InstallationPaused && !(test && inst.State == store.InstallationSetup) {
			continue
		}
		cc, overrides, err := e.rt.installation(inst)
		if err != nil {
			// The event waits for the contract version to be loaded again
			// (a deploy that dropped it), or for overrides that fit it:
			// nothing accepted is dropped.
			e.deps.Logger.ErrorContext(ctx, "installation's contract version is not loaded or its overrides do not fit it; its events wait", "tenant_id", inst.TenantID,
				"installation_id", inst.ID, "contract", inst.Contract, "contract_version", inst.ContractVersion, "err", err)
			tally.listened = true
			wait(e.cfg.PauseInterval)
			continue
		}
		for _, t := range cc.triggers {
			if inst.Connections[t.provider.Name] != ev.ConnectionID || !t.events[ev.Type] {
				continue
			}
			tally.listened = true
			if !overrides.TriggerOn(t.trigger.Name) {
				// Switched off by this installation ("choose objects"): the
				// event ends filtered, and says why.
				e.deps.Logger.InfoContext(ctx, "event filtered: the installation switched this trigger off", "tenant_id", inst.TenantID,
					"installation_id", inst.ID, "event_id", ev.ID, "trigger", t.trigger.Name, "reason", filterTriggerOff)
				e.metrics.filtered(filterTriggerOff)
				for _, ca := range t.actions {
					tally.add(e.metrics.labels(inst, ca.provider.Name), outcomeFiltered)
				}
				continue
			}
			if inst.State == store.InstallationPaused {
				// A paused installation keeps its events: they wait, like
				// writes through a paused connection, and apply on resume.
				for _, ca := range t.actions {
					e.metrics.retry(e.metrics.labels(inst, ca.provider.Name), retryPaused)
				}
				wait(e.cfg.PauseInterval)
				continue
			}
			doc := t.objectOf(ev.Type, payload)
			// A deletion ends the record whatever its fields say: the
			// condition, merges and drift are about a record that lives on.
			deleting := t.deletes[ev.Type]
			if !deleting {
				ok, err := e.admits(ctx, inst, cc.contract, t, ev, doc, args)
				if err != nil {
					retry = errors.Join(retry, err)
					continue
				}
				if !ok {
					for _, ca := range t.actions {
						tally.add(e.metrics.labels(inst, ca.provider.Name), outcomeFiltered)
					}
					continue
				}
			}
			for _, ca := range t.actions {
				in := applyInput{event: ev, inst: inst, contract: cc.contract, trigger: t, action: ca, doc: doc, args: args, enriched: enriched,
					deleting: deleting}
				var res applyResult
				sid, keyErr := sourceIDOf(t, ca, ev.ObjectID, doc)
				if in.sourceID = sid; keyErr != nil {
					in.sourceID = ev.ObjectID // the record error names the event's object
					res = e.fail(ctx, in, store.Connection{TenantID: inst.TenantID}, ClassBadData, keyErr.Error())
				} else {
					res = e.apply(ctx, in)
				}
				if rep, ok := ctx.Value(testReportKey{}).(*testReport); ok && res.final() {
					rep.outcomes[ca.action.Name] = res.outcome
				}
				switch {
				case res.snooze > 0:
					wait(res.snooze)
				case res.retry != nil:
					retry = errors.Join(retry, res.retry)
				default:
					tally.add(e.metrics.labels(inst, ca.provider.Name), res.outcome)
				}
			}
		}
	}
	switch {
	case snooze > 0:
		return "", queue.Snooze(snooze)
	case retry != nil:
		return "", retry
	}
	outcome = tally.outcome()
	if test {
		// A test is not traffic: no outcome metrics, and an outcome word
		// the health figures do not count.
		outcome = TestOutcomePrefix + outcome
	} else {
		for _, a := range tally.actions {
			e.metrics.action(a.labels, a.outcome)
		}
		e.metrics.eventOutcome(ev.TenantID, outcome)
		if e.deps.OnEventFinal != nil {
			e.deps.OnEventFinal(ev, outcome)
		}
	}
	e.deps.Logger.DebugContext(ctx, "event delivered", "tenant_id", ev.TenantID, "event_id", ev.ID, "outcome", outcome)
	if args.RecordErrorID != "" && !tally.failed() {
		if err := st.SetRecordErrorStatus(ctx, args.TenantID, args.RecordErrorID, store.RecordErrorResolved); err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("resolving record error: %w", err)
		}
	}
	return outcome, nil
}

// admits runs what comes before a trigger's actions for an event about a
// record that lives on: the trigger's condition (false: the actions end
// filtered), then the merges the object names and the two-way drift check
// (an error: the event is retried).
func (e *Engine) admits(ctx context.Context, inst store.Installation, c *spec.Contract, t *compiledTrigger, ev store.Event, doc map[string]any, args DeliverArgs) (bool, error) {
	ok, err := t.cond.Match(doc)
	if err != nil {
		e.deps.Logger.WarnContext(ctx, "trigger condition failed; treated as not matching", "tenant_id", inst.TenantID,
			"installation_id", inst.ID, "event_id", ev.ID, "err", err)
	}
	if !ok {
		e.metrics.filtered(filterCondition)
		return false, nil
	}
	if t.source.MergedIDs != "" {
		if err := e.applyMerges(ctx, inst, t, ev, doc); err != nil {
			return false, err
		}
	}
	if t.twoWay {
		if err := e.checkDrift(ctx, inst, c, t, ev, doc, args); err != nil {
			return false, err
		}
	}
	return true, nil
}

type applyInput struct {
	event    store.Event
	inst     store.Installation
	contract *spec.Contract
	trigger  *compiledTrigger
	action   *compiledAction
	doc      map[string]any
	args     DeliverArgs
	// sourceID keys the action's link and lock: the record key's value, or
	// the event's object id.
	sourceID string
	// enriched caches related objects fetched for this event.
	enriched *enrichCache
	// deleting: the event reports the source record deleted; the action
	// applies its on_delete.
	deleting bool
}

// applyResult is kept as a name for the one-action result.
type applyResult = actionResult

// apply runs one action for one event under the object's lock. If a newer
// version of the source object starts delivering in this process before
// the partner write, the write waits for it: the newer version is applied
// first and this one then meets its watermark. A panic in the action is
// filed as a record error for it.
func (e *Engine) apply(ctx context.Context, in applyInput) (res applyResult) {
	defer func() {
		if r := recover(); r != nil {
			e.deps.Logger.ErrorContext(ctx, "an action panicked; filed as a record error", "tenant_id", in.inst.TenantID,
				"installation_id", in.inst.ID, "action", in.action.action.Name, "event_id", in.event.ID,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			e.metrics.panic()
			res = e.fail(ctx, in, store.Connection{TenantID: in.inst.TenantID, ID: in.inst.Connections[in.action.provider.Name]},
				ClassBadData, fmt.Sprintf("internal error while running action %s: %v", in.action.action.Name, r))
		}
	}()
	for {
		res, newer := e.applyOnce(ctx, in)
		if !newer {
			return res
		}
		waitCtx, cancel := context.WithTimeout(ctx, e.cfg.LockWait)
		err := e.versions.waitNewer(waitCtx, objectKey(in.event), eventOrder(in.event))
		cancel()
		if err != nil {
			e.metrics.retry(e.metrics.labels(in.inst, in.action.provider.Name), retryBusy)
			return applyResult{snooze: time.Second}
		}
	}
}

// objectKey names the source object of an event for objectVersions.
func objectKey(ev store.Event) string {
	return ev.TenantID + "\x00" + ev.ConnectionID + "\x00" + ev.ObjectID
}

func (e *Engine) applyOnce(ctx context.Context, in applyInput) (applyResult, bool) {
	a := in.action
	labels := e.metrics.labels(in.inst, a.provider.Name)
	connID := in.inst.Connections[a.provider.Name]
	conn, err := e.cache.connection(ctx, in.inst.TenantID, connID)
	if err == nil && conn.State != store.ConnectionActive {
		// A pause may have just been lifted (reconnect, retry): the cache
		// must not hold the job back for its pause interval.
		e.cache.forgetConnection(in.inst.TenantID, connID)
		conn, err = e.cache.connection(ctx, in.inst.TenantID, connID)
	}
	if err != nil {
		e.metrics.retry(labels, retryTransient)
		return applyResult{retry: fmt.Errorf("loading %s connection: %w", a.provider.Name, err)}, false
	}
	if conn.State != store.ConnectionActive {
		// Writes are paused until the account is reconnected: the job
		// waits, nothing is dropped or failed.
		e.metrics.retry(labels, retryPaused)
		return applyResult{snooze: e.cfg.PauseInterval}, false
	}

	key := e.linkKey(in)
	lockCtx, cancel := context.WithTimeout(ctx, e.cfg.LockWait)
	unlock, err := e.locks.lock(lockCtx, lockKey(key))
	cancel()
	if err != nil {
		e.metrics.retry(labels, retryBusy)
		return applyResult{snooze: time.Second}, false
	}
	defer unlock()
	lease, leased, err := e.leaseObject(ctx, key)
	if err != nil {
		e.metrics.retry(labels, retryTransient)
		return applyResult{retry: fmt.Errorf("leasing object: %w", err)}, false
	}
	if !leased {
		// Another process is writing this object: wait without holding a
		// worker or using an attempt.
		e.metrics.retry(labels, retryBusy)
		return applyResult{snooze: 200 * time.Millisecond}, false
	}
	defer lease.release()

	link, err := e.deps.Store.GetLink(ctx, key)
	if errors.Is(err, store.ErrNotFound) && a.legacyLink {
		// Written before links were keyed by action: adopted, and the next
		// write stores it under the action.
		legacy := key
		legacy.Action = ""
		if link, err = e.deps.Store.GetLink(ctx, legacy); err == nil {
			link.LinkKey = key
		}
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		e.metrics.retry(labels, retryTransient)
		return applyResult{retry: fmt.Errorf("reading link: %w", err)}, false
	}
	hasLink := err == nil
	if !hasLink && in.trigger.twoWay && a.action.Op != spec.OpCreate {
		target, err := e.reverseTarget(ctx, in)
		if err != nil {
			e.metrics.retry(labels, retryTransient)
			return applyResult{retry: fmt.Errorf("reading the other direction's links: %w", err)}, false
		}
		if target != "" {
			link, hasLink = store.Link{LinkKey: key, TargetID: target}, true
		}
	}
	linked := hasLink && link.TargetID != ""
	ord := eventOrder(in.event)
	if hasLink && link.Uncertain && !linked && !idempotentCreate(a) {
		// A create whose answer never came may still land: sending it again
		// before the partner's answer window has passed could make a
		// second object (a lookup may not see it yet). After it, the
		// lookup below settles it. A partner that dedups by idempotency
		// key needs no wait: the retry carries the same key.
		if wait := link.UncertainSince.Add(e.answerWindow(a.provider)).Sub(e.deps.Now()); wait > 0 {
			e.metrics.retry(labels, retryUncertain)
			return applyResult{snooze: wait}, false
		}
	}
	if hasLink && link.EventID == in.event.ID && linkOrder(link) == ord {
		// An earlier run of this event wrote it (the job went on to wait
		// for another action): done, not written twice.
		return applyResult{outcome: outcomeApplied}, false
	}
	if (linked || link.SourceDeleted) && ord.less(linkOrder(link)) {
		e.deps.Logger.DebugContext(ctx, "stale event skipped: a newer version was already written", "tenant_id", key.TenantID,
			"installation_id", key.InstallationID, "action", a.action.Name, "object", key.SourceObject, "source_id", key.SourceID,
			"event_id", in.event.ID, "event_version", ord.version, "watermark", link.Version)
		return applyResult{outcome: outcomeStale}, false
	}
	if in.deleting {
		return e.applyDelete(ctx, in, conn, link, linked, lease.fence), false
	}
	if linked && a.action.Op == spec.OpCreate {
		// The partner object exists and the contract only creates: nothing
		// to write, but the watermark advances so older events stay stale.
		link.Version, link.EventID, link.EventAt = ord.version, in.event.ID, ord.at
		if err := e.links.write(ctx, link); err != nil && !errors.Is(err, store.ErrStaleLink) {
			e.metrics.retry(labels, retryTransient)
			return applyResult{retry: fmt.Errorf("advancing link: %w", err)}, false
		}
		return applyResult{outcome: outcomeUnchanged}, false
	}
	if !linked && a.action.Op == spec.OpUpdate {
		e.deps.Logger.DebugContext(ctx, "update skipped: no partner object is linked to this record yet", "tenant_id", key.TenantID,
			"installation_id", key.InstallationID, "action", a.action.Name, "source_id", key.SourceID, "event_id", in.event.ID)
		return applyResult{outcome: outcomeFiltered}, false
	}

	related, stop := e.enrich(ctx, in)
	if stop != nil {
		return *stop, false
	}
	res, err := a.mapper.MapWith(in.doc, related)
	if err != nil {
		return e.fail(ctx, in, conn, ClassBadData, err.Error()), false
	}
	doc := res.Doc
	if res.Unknown > 0 {
		// Partners add fields freely: ignored, but counted so a contract
		// author sees what the partner sends that the manifest does not
		// declare (names only, in the debug log).
		e.metrics.unknownFields(in.trigger.provider.Name, in.trigger.source.Name, res.Unknown)
		e.deps.Logger.DebugContext(ctx, "source fields not in the manifest ignored", "provider", in.trigger.provider.Name,
			"object", in.trigger.source.Name, "fields", res.UnknownFields)
	}

	// The fields as the link will record them, marshalled once for the
	// comparison below and the link write.
	fields, _ := json.Marshal(doc)
	if linked && !link.Uncertain && sameFields(fields, link.Fields) {
		// The partner object already holds exactly what Accord last wrote
		// there: its own write coming back, a webhook and a poll of one
		// change, or a change only to fields this action does not map.
		// Writing again would at best cost a call, and in two-way sync
		// bounce the change between the sides forever.
		link.Version, link.EventID, link.EventAt = ord.version, in.event.ID, ord.at
		if err := e.links.write(ctx, link); err != nil && !errors.Is(err, store.ErrStaleLink) {
			e.metrics.retry(labels, retryTransient)
			return applyResult{retry: fmt.Errorf("advancing link: %w", err)}, false
		}
		e.metrics.echo(a.provider.Name)
		return applyResult{outcome: outcomeUnchanged}, false
	}
	if wait := e.connectors[a.provider.Name].Limiter().ReserveN(key.TenantID, lockKey(key), writeRequests(in, link, linked)); wait > 0 {
		e.metrics.retry(labels, retryThrottled)
		return applyResult{snooze: wait}, false
	}
	auth, err := e.deps.Credentials.Authorizer(ctx, conn, a.provider)
	if err != nil {
		return e.authFailed(ctx, in, conn, err, err.Error()), false
	}

	if e.versions.hasNewer(objectKey(in.event), ord) {
		return applyResult{}, true
	}
	if linked && a.watched && in.contract.OnConflict != "" && !link.Uncertain {
		if stop := e.settleConflicts(ctx, in, conn, auth, link, doc, lease.fence); stop != nil {
			return *stop, false
		}
	}
	start := e.deps.Now()
	w, err := e.write(ctx, in, auth, link, linked, doc, lease.fence)
	e.metrics.duration(a.provider.Name, a.action.Op, e.deps.Now().Sub(start))
	if errors.Is(err, errLeaseLost) {
		e.deps.Logger.WarnContext(ctx, "object lease could not be renewed in time; the write waits for the object", "tenant_id", key.TenantID,
			"installation_id", key.InstallationID, "action", a.action.Name, "source_id", key.SourceID)
		e.metrics.retry(labels, retryBusy)
		return applyResult{snooze: time.Second}, false
	}
	if err != nil {
		if ambiguous(err) {
			e.deps.Logger.WarnContext(ctx, "a partner write got no answer; it may still be applied, so its object is settled after the answer window",
				"tenant_id", key.TenantID, "installation_id", key.InstallationID, "action", a.action.Name, "source_id", key.SourceID,
				"answer_window", e.answerWindow(a.provider).String(), "err", err)
			e.markUncertain(ctx, key, start)
			if !linked && ctx.Err() == nil && !idempotentCreate(a) {
				e.metrics.retry(labels, retryUncertain)
				return applyResult{snooze: e.answerWindow(a.provider)}, false
			}
		}
		return e.handleWriteError(ctx, in, conn, err), false
	}
	next := store.Link{LinkKey: key, TargetID: w.id, Version: ord.version, EventID: in.event.ID, EventAt: ord.at, ETag: w.etag, Fields: fields}
	err = e.links.write(ctx, next)
	if errors.Is(err, store.ErrStaleLink) {
		// A newer version was written meanwhile (by a process that took
		// the object after this one's lease lapsed): the partner may now
		// hold this older state. The settlement job re-sends the newest.
		e.deps.Logger.WarnContext(ctx, "an older version reached the partner after a newer one; the newest is re-sent",
			"tenant_id", key.TenantID, "installation_id", key.InstallationID, "action", a.action.Name, "source_id", key.SourceID)
		e.markUncertain(ctx, key, e.deps.Now().Add(-e.answerWindow(a.provider)))
		return applyResult{outcome: outcomeStale}, false
	}
	if err != nil {
		// The partner has the write; the retry finds it by external id or
		// the idempotency key and only the link write is repeated.
		e.metrics.retry(labels, retryTransient)
		return applyResult{retry: fmt.Errorf("recording link: %w", err)}, false
	}
	if linked && link.Uncertain && e.deps.Now().Before(link.UncertainSince.Add(e.answerWindow(a.provider))) {
		// An earlier write of this object got no answer and may still land
		// after this one: the mark (and its time) stays, so the settlement
		// job re-sends this newest state once that write can no longer
		// arrive.
		e.markUncertain(ctx, key, link.UncertainSince)
	}
	e.metrics.eventToAction(a.provider.Name, e.deps.Now().Sub(in.event.ReceivedAt))
	return applyResult{outcome: outcomeApplied}, false
}

// sameFields reports whether the mapped fields equal the fields a link
// recorded as last written: byte for byte (SQLite keeps the text), else as
// JSON values (PostgreSQL's jsonb does not keep the bytes).
func sameFields(fields, written json.RawMessage) bool {
	if len(written) == 0 || len(fields) == 0 {
		return false
	}
	if bytes.Equal(fields, written) {
		return true
	}
	var was, now any
	if json.Unmarshal(written, &was) != nil || json.Unmarshal(fields, &now) != nil {
		return false
	}
	return reflect.DeepEqual(was, now)
}

// idempotentCreate reports whether the partner deduplicates the action's
// create by idempotency key: a retry of an unanswered create is then safe
// at once, whenever the first one lands.
func idempotentCreate(a *compiledAction) bool {
	c := a.target.Endpoints.Create
	return c != nil && c.IdempotencyHeader != ""
}

// linkKey is the link of one (source record, action) in an installation.
func (e *Engine) linkKey(in applyInput) store.LinkKey {
	return store.LinkKey{
		TenantID:       in.inst.TenantID,
		InstallationID: in.inst.ID,
		SourceObject:   linkSource(in.trigger, in.action),
		SourceID:       in.sourceID,
		TargetObject:   in.action.provider.Name + "." + in.action.target.Name,
		Action:         in.action.action.Name,
	}
}

// write creates or updates the partner object and returns its id.
// fence is checked before every partner call: a write never goes out once
// the object's cross-process lease may have passed to another process.
func (e *Engine) write(ctx context.Context, in applyInput, auth connector.Authorizer, link store.Link, linked bool, doc map[string]any, fence func() error) (written, error) {
	a := in.action
	cn := e.connectors[a.provider.Name]
	call := connector.Call{Object: a.target.Name, Doc: doc, Auth: auth}
	if linked {
		call.ID = link.TargetID
		if err := fence(); err != nil {
			return written{}, err
		}
		res, err := e.update(ctx, cn, a.target, call, link.ETag, fence)
		if err == nil {
			return written{id: link.TargetID, etag: res.ETag}, nil
		}
		var pe *connector.PartnerError
		if !errors.As(err, &pe) || pe.Class != spec.ClassNotFound || a.action.OnMissing == "fail" {
			return written{}, &callError{op: "update", ep: a.target.Endpoints.Update, err: err}
		}
		// Deleted at the partner and the contract says recreate.
		call.ID = ""
	}
	// A crash between the partner's create and our link write leaves an
	// object only the partner knows, and a sibling action may have written
	// the shared record: find it instead of making a second one.
	gone := ""
	if linked {
		gone = link.TargetID
	}
	foundID, err := e.findExisting(ctx, in, cn, call, fence, gone)
	if err != nil {
		return written{}, err
	}
	if foundID != "" {
		if a.action.Op == spec.OpCreate {
			return written{id: foundID}, nil
		}
		call.ID = foundID
		if err := fence(); err != nil {
			return written{}, err
		}
		res, err := e.update(ctx, cn, a.target, call, "", fence)
		if err != nil {
			return written{}, &callError{op: "update", ep: a.target.Endpoints.Update, err: err}
		}
		return written{id: foundID, etag: res.ETag}, nil
	}
	target := a.provider.Name + "." + a.target.Name
	if linked {
		// Recreating what the partner deleted is a new create: the first
		// create's key would be refused (another body) or replayed (the
		// deleted object).
		target += "\x00replaces\x00" + link.TargetID
	}
	call.IdempotencyKey = idempotencyKey(in.inst, linkSource(in.trigger, a), in.sourceID, target, a.action.Name)
	if err := fence(); err != nil {
		return written{}, err
	}
	created, err := cn.Create(ctx, call)
	if err != nil {
		return written{}, &callError{op: "create", ep: a.target.Endpoints.Create, err: err}
	}
	if created.ID == "" {
		return written{}, fmt.Errorf("%s create returned no id", a.provider.Name)
	}
	return written{id: created.ID, etag: created.ETag}, nil
}

// written is what a partner write left: the object's id and the ETag of
// the answer (empty when the partner sends none).
type written struct{ id, etag string }

// update writes call to the partner. When the endpoint declares if_match,
// the write is conditional on etag (the partner's last answer for the
// object); a 412 means the object changed since (another writer, or an
// earlier write of ours whose answer was lost), so the current ETag is
// read and the newest state written once more on it.
func (e *Engine) update(ctx context.Context, cn *connector.Connector, target *spec.Object, call connector.Call, etag string, fence func() error) (connector.Result, error) {
	conditional := target.Endpoints.Update != nil && target.Endpoints.Update.IfMatch
	if conditional {
		call.IfMatch = etag
	}
	if err := fence(); err != nil {
		return connector.Result{}, err
	}
	res, err := cn.Update(ctx, call)
	if !conditional || !errors.Is(err, connector.ErrPreconditionFailed) || target.Endpoints.Get == nil {
		return res, err
	}
	if err := fence(); err != nil {
		return connector.Result{}, err
	}
	cur, gerr := cn.Get(ctx, connector.Call{Object: call.Object, ID: call.ID, Auth: call.Auth})
	if gerr != nil {
		return res, err
	}
	call.IfMatch = cur.ETag
	if err := fence(); err != nil {
		return connector.Result{}, err
	}
	return cn.Update(ctx, call)
}

// handleWriteError turns a partner error into the job's fate.
func (e *Engine) handleWriteError(ctx context.Context, in applyInput, conn store.Connection, err error) applyResult {
	a := in.action
	return e.steer(ctx, in, conn, a.provider, fmt.Sprintf("%s %s", a.provider.Name, a.action.Op), err)
}

// steer turns a failed partner call to provider (a write, or an
// enrichment read from the source) into the job's fate, the one place
// that does: policy and bad ids fail at once, throttling holds the
// tenant's bucket (shared with other processes) and snoozes, a refused
// sign-in or scope pauses conn, validation fails, and anything else
// retries until the contract's window is spent.
func (e *Engine) steer(ctx context.Context, in applyInput, conn store.Connection, provider *spec.Provider, what string, err error) applyResult {
	labels := e.metrics.labels(in.inst, provider.Name)
	var pe *connector.PartnerError
	class := spec.ClassTransient
	if errors.As(err, &pe) {
		class = pe.Class
	}
	msg := partnerMessage(err, pe)
	var am *AmbiguousMatchError
	switch {
	case errors.As(err, &am):
		return e.fail(ctx, in, conn, ClassAmbiguousMatch, am.Error())
	case pe != nil && pe.Policy:
		// Retrying cannot help until an operator changes the setting the
		// message names; it used to retry silently for a day.
		return e.fail(ctx, in, conn, ClassPolicy, msg)
	case errors.Is(err, connector.ErrBadPathSegment):
		// An id of "", "." or "..": sent as a path segment it would steer
		// the request elsewhere with the tenant's credentials.
		return e.fail(ctx, in, conn, ClassBadData, err.Error())
	}
	switch class {
	case spec.ClassRateLimited:
		wait := time.Second
		if pe != nil && pe.RetryAfter > 0 {
			wait = pe.RetryAfter
		}
		e.connectors[provider.Name].Limiter().Backoff(in.inst.TenantID, wait)
		e.sharePartnerHold(ctx, in.inst.TenantID, provider.Name, wait)
		if e.windowSpent(in) {
			return e.fail(ctx, in, conn, ClassRateLimit, msg)
		}
		e.metrics.retry(labels, retryThrottled)
		return applyResult{snooze: wait}
	case spec.ClassAuth:
		return e.authFailed(ctx, in, conn, err, msg)
	case spec.ClassPermission:
		return e.pause(ctx, in, conn, store.ConnectionMissingScopes, ClassPermission, msg, false)
	case spec.ClassValidation, spec.ClassNotFound:
		return e.fail(ctx, in, conn, recordClass(class), msg)
	default:
		if e.windowSpent(in) {
			return e.fail(ctx, in, conn, ClassPartnerDown, msg)
		}
		e.metrics.retry(labels, retryTransient)
		return applyResult{retry: fmt.Errorf("%s: %w", what, err)}
	}
}

func (e *Engine) windowSpent(in applyInput) bool {
	return e.deps.Now().Sub(in.event.ReceivedAt) >= in.contract.Failure.EffectiveRetryFor().D()
}

// authFailed decides what a refused or missing credential means. The
// partner refusing it (a 401 a refresh did not cure), or the connection
// needing a reconnect (connector.ErrNeedsReconnect: its grant was revoked,
// so its state already says so), pauses the connection's writes. A
// credential that could not be obtained for a reason that is not the
// tenant's (connector.ErrAuthUnavailable: the token endpoint refused
// Accord's own client or failed; the operator has been alerted) or any
// other error (the vault) is retried with backoff: the tenant's grant is
// intact and its connection stays active.
func (e *Engine) authFailed(ctx context.Context, in applyInput, conn store.Connection, err error, msg string) applyResult {
	needsReconnect := errors.Is(err, connector.ErrNeedsReconnect)
	var pe *connector.PartnerError
	if needsReconnect || (errors.As(err, &pe) && !errors.Is(err, connector.ErrAuthUnavailable)) {
		return e.pause(ctx, in, conn, store.ConnectionNeedsReconnect, ClassAuth, msg, needsReconnect)
	}
	e.metrics.retry(e.metrics.labels(in.inst, in.action.provider.Name), retryTransient)
	return applyResult{retry: fmt.Errorf("authorizing %s: %w", in.action.provider.Name, err)}
}

// pause moves the connection out of active through the connection
// lifecycle (row and audit entry in one transaction), then parks the job.
// In that same transaction, under the connection's lock, the installation
// gets its one record error for the outage, unless it already has an open
// one of the class: however many jobs meet the failure at once, in however
// many processes, and whether this job or the OAuth refresh paused the
// connection, one record error and one alert per installation and outage.
// ResumeConnection resolves it when the held writes are released.
func (e *Engine) pause(ctx context.Context, in applyInput, conn store.Connection, state store.ConnectionState, class, msg string, _ bool) applyResult {
	a := in.action
	remedy := remediation(class, providerTitle(a.provider), msg, time.Time{}) +
		fmt.Sprintf(" Writes to %s are held, not dropped, until the connection is recovered: POST /api/v1/tenants/%s/connections/%s/reconnect "+
			"(for a browser sign-in it answers a single-use link to the provider's consent page).", providerTitle(a.provider), conn.TenantID, conn.ID)
	// A link an admin can open (signed, single use, to the provider's
	// consent page), when the credentials can mint one: minted only when
	// this pause will likely file the outage's record error.
	if open, err := e.hasOpenRecordError(ctx, e.deps.Store, in.inst, class); err == nil && !open {
		if r, ok := e.deps.Credentials.(interface {
			ReconnectURL(ctx context.Context, conn store.Connection) (string, error)
		}); ok {
			if u, err := r.ReconnectURL(ctx, conn); err == nil && u != "" {
				remedy += " Or open this single-use link to sign in again: " + u
			}
		}
	}
	var filed store.RecordError
	life := connection.New(e.deps.Store, nil)
	_, _, err := life.Pause(ctx, conn.TenantID, conn.ID, state, remedy,
		connection.Entry{Actor: connection.ActorSystem, Detail: map[string]any{"installation_id": in.inst.ID, "class": class}},
		func(ctx context.Context, tx store.Tx, _ store.Connection, _ bool) error {
			filed = store.RecordError{}
			open, err := e.hasOpenRecordError(ctx, tx, in.inst, class)
			if err != nil || open {
				return err
			}
			args, _ := json.Marshal(DeliverArgs{TenantID: in.args.TenantID, EventID: in.args.EventID})
			re := store.RecordError{
				TenantID: in.inst.TenantID, ID: "rerr_" + uuid.NewString(), InstallationID: in.inst.ID, EventID: in.event.ID,
				Object: in.trigger.source.Name, SourceID: in.event.ObjectID, Class: class, Message: truncate(msg, 1000),
				Remediation: remedy, Status: store.RecordErrorOpen, JobKind: KindDeliver, JobArgs: args, Sample: sampleOf(in),
			}
			if in.args.RecordErrorID != "" {
				// An admin's retry met the same failure: its record error
				// is the outage's.
				if err := tx.SetRecordErrorStatus(ctx, in.inst.TenantID, in.args.RecordErrorID, store.RecordErrorOpen); err == nil {
					re.ID = in.args.RecordErrorID
					filed = re
					return nil
				}
			}
			if err := tx.InsertRecordError(ctx, re); err != nil {
				return err
			}
			filed = re
			return nil
		})
	if err != nil {
		return applyResult{retry: fmt.Errorf("pausing connection: %w", err)}
	}
	e.metrics.retry(e.metrics.labels(in.inst, a.provider.Name), retryPaused)
	e.cache.forgetConnection(conn.TenantID, conn.ID)
	if filed.ID != "" {
		e.deps.Alerter.Raise(ctx, Alert{TenantID: in.inst.TenantID, InstallationID: in.inst.ID, ConnectionID: conn.ID,
			Contract: in.contract.Name, Object: in.trigger.source.Name, SourceID: in.event.ObjectID, Class: class,
			Message: msg, Remediation: remedy, RecordErrorID: filed.ID, At: e.deps.Now()})
	}
	return applyResult{snooze: e.cfg.PauseInterval}
}

// hasOpenRecordError reports whether the installation already has an open
// record error of class, read through q (the pause's transaction).
func (e *Engine) hasOpenRecordError(ctx context.Context, q store.Queries, inst store.Installation, class string) (bool, error) {
	open, err := q.ListRecordErrors(ctx, inst.TenantID, store.RecordErrorFilter{InstallationID: inst.ID, Status: store.RecordErrorOpen, Limit: 1000})
	if err != nil {
		return false, err
	}
	for _, re := range open {
		if re.Class == class {
			return true, nil
		}
	}
	return false, nil
}

// fail files a record error for an action that retrying will not fix.
func (e *Engine) fail(ctx context.Context, in applyInput, conn store.Connection, class, msg string) applyResult {
	a := in.action
	remedy := remediation(class, providerTitle(a.provider), msg, time.Time{})
	id := e.recordError(ctx, in, class, msg, remedy)
	if class == ClassPartnerDown || class == ClassRateLimit {
		e.deps.Alerter.Raise(ctx, Alert{TenantID: in.inst.TenantID, InstallationID: in.inst.ID, ConnectionID: conn.ID,
			Contract: in.contract.Name, Object: in.trigger.source.Name, SourceID: in.event.ObjectID, Class: class,
			Message: msg, Remediation: remedy, RecordErrorID: id, At: e.deps.Now()})
	}
	return applyResult{outcome: outcomeFailed}
}

// recordError files (or, for an admin's retry, reopens) the record error
// and returns its id.
func (e *Engine) recordError(ctx context.Context, in applyInput, class, msg, remedy string) string {
	st := e.deps.Store
	if in.args.RecordErrorID != "" {
		if err := st.SetRecordErrorStatus(ctx, in.inst.TenantID, in.args.RecordErrorID, store.RecordErrorOpen); err == nil {
			return in.args.RecordErrorID
		}
	}
	args, _ := json.Marshal(DeliverArgs{TenantID: in.args.TenantID, EventID: in.args.EventID})
	re := store.RecordError{
		TenantID:       in.inst.TenantID,
		ID:             "rerr_" + uuid.NewString(),
		InstallationID: in.inst.ID,
		EventID:        in.event.ID,
		Object:         in.trigger.source.Name,
		SourceID:       in.event.ObjectID,
		Class:          class,
		Message:        truncate(msg, 1000),
		Remediation:    remedy,
		Status:         store.RecordErrorOpen,
		JobKind:        KindDeliver,
		JobArgs:        args,
		Sample:         sampleOf(in),
	}
	if err := st.InsertRecordError(ctx, re); err != nil {
		e.deps.Logger.ErrorContext(ctx, "filing record error", "tenant_id", re.TenantID, "err", err)
		return ""
	}
	return re.ID
}

func providerTitle(p *spec.Provider) string {
	if p.Title != "" {
		return p.Title
	}
	return p.Name
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func lockKey(k store.LinkKey) string {
	if k.SourceObject == spec.RecordKeyObject {
		// Every action of a record key writes one target record: one lock.
		k.Action = ""
	}
	return k.TenantID + "\x00" + k.InstallationID + "\x00" + k.SourceObject + "\x00" + k.SourceID + "\x00" + k.TargetObject + "\x00" + k.Action
}

// idempotencyKey is stable for one source object and target in one
// installation, so every retry of its create is the same request to the
// partner.
func idempotencyKey(inst store.Installation, sourceObject, sourceID, target, action string) string {
	h := sha256.Sum256([]byte(inst.TenantID + "\x00" + inst.ID + "\x00" + sourceObject + "\x00" + sourceID + "\x00" + target + "\x00" + action))
	return "accord-" + hex.EncodeToString(h[:16])
}

// maxSampleBytes bounds the record sample a record error keeps; a larger
// record keeps none (the event it came from is linked).
const maxSampleBytes = 16 << 10

// sampleOf is the failed record as a record error keeps it: minimised to
// what its object declares and redacted by field type (internal/privacy),
// so the row an admin opens, and that outlives the event's retention,
// never holds an e-mail address, a phone number or a secret.
func sampleOf(in applyInput) json.RawMessage {
	if in.trigger == nil || in.doc == nil {
		return nil
	}
	kept, _ := privacy.Minimise(in.trigger.source, in.doc)
	b, err := json.Marshal(privacy.Redact(in.trigger.source, kept))
	if err != nil || len(b) > maxSampleBytes {
		return nil
	}
	return b
}
