package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// ReconcileArgs is the job that compares every object an installation's
// contract lists with what Accord wrote.
type ReconcileArgs struct {
	TenantID       string `json:"tenant_id"`
	InstallationID string `json:"installation_id"`
}

// KindReconcile is the job kind of ReconcileArgs.
const KindReconcile = "accord_reconcile"

// Kind implements river.JobArgs.
func (ReconcileArgs) Kind() string { return KindReconcile }

// InsertOpts: on-demand requests are never folded together (the planner
// adds plannedReconcileOpts' uniqueness to its own).
func (ReconcileArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

// plannedReconcileOpts: the planner queues at most one a minute per
// installation however often it looks.
func plannedReconcileOpts() *river.InsertOpts {
	return &river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: time.Minute}}
}

type reconcileWorker struct {
	river.WorkerDefaults[ReconcileArgs]
	s *Syncer
}

// Timeout: a full compare reads every page of every listed object.
func (w *reconcileWorker) Timeout(*river.Job[ReconcileArgs]) time.Duration { return time.Hour }

func (w *reconcileWorker) Work(ctx context.Context, job *river.Job[ReconcileArgs]) error {
	_, err := w.s.Reconcile(ctx, job.Args.TenantID, job.Args.InstallationID)
	return err
}

// reconcileEvery is how often an installation with schedule triggers is
// reconciled by itself (the first time a day after it was installed).
const reconcileEvery = 24 * time.Hour

// maxSamples bounds the differences a report shows per object.
const maxSamples = 10

// Report is one reconciliation: per partner object the contract lists,
// how many objects there are, how many are paired with a record on the
// other side, and which fields hold another value than Accord wrote.
type Report struct {
	InstallationID string    `json:"installation_id"`
	StartedAt      time.Time `json:"started_at"`
	FinishedAt     time.Time `json:"finished_at,omitzero"`
	// Complete: every page of every object was read. An incomplete report
	// draws no conclusion about what is missing.
	Complete bool           `json:"complete"`
	Repair   string         `json:"repair"`
	Objects  []ObjectReport `json:"objects"`
}

// ObjectReport is one partner object's part of a Report.
type ObjectReport struct {
	Object   string `json:"object"` // provider.object
	Listed   int    `json:"listed"`
	Paired   int    `json:"paired"`
	Unpaired int    `json:"unpaired"`
	// Diffs counts, per field, the objects whose value differs from what
	// Accord last wrote there; Reverted how many were marked to be
	// written back (on_drift: revert).
	Diffs    map[string]int `json:"diffs"`
	Reverted int            `json:"reverted"`
	Samples  []DiffSample   `json:"samples"`
	Complete bool           `json:"complete"`
	Error    string         `json:"error,omitempty"`
	// Missing counts links to objects of this kind that the complete
	// listing no longer shows (deleted at the partner, or hidden from
	// Accord's account), with samples; only counted after a complete
	// listing (DeletesChecked). Past DeleteGuard of the links, the count
	// is treated as a fault, not as deletes: DeletesStopped, and an alert.
	Missing        int      `json:"missing"`
	MissingSamples []string `json:"missing_samples"`
	DeletesChecked bool     `json:"deletes_checked"`
	DeletesStopped bool     `json:"deletes_stopped"`
	// SourcesDeleted counts the records Accord wrote from that the
	// complete listing no longer shows, handed to the engine as deletions
	// (each action's on_delete), with samples. Past DeleteGuard nothing is
	// handed over: SourcesStopped, and an alert.
	SourcesDeleted        int      `json:"sources_deleted"`
	SourcesDeletedSamples []string `json:"sources_deleted_samples"`
	SourcesStopped        bool     `json:"sources_stopped"`
}

// DeleteGuard is the largest share of an object's links a reconciliation
// takes as deleted at the partner; more is more likely a partial or
// filtered listing (a permission change, a partner bug) than deletes.
const DeleteGuard = 0.05

// DiffSample is one difference found.
type DiffSample struct {
	ObjectID string `json:"object_id"`
	Field    string `json:"field"`
	Written  string `json:"written"`
	Now      string `json:"now"`
}

// ReconcileNow queues a reconciliation of the installation.
func (s *Syncer) ReconcileNow(ctx context.Context, tenantID, installationID string) error {
	if _, err := s.deps.Store.GetInstallation(ctx, tenantID, installationID); err != nil {
		return err
	}
	if s.jobs == nil {
		return errors.New("syncer: no queue")
	}
	a := ReconcileArgs{TenantID: tenantID, InstallationID: installationID}
	opts := a.InsertOpts()
	return s.deps.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := s.jobs.InsertManyTx(ctx, tx, []river.InsertManyParams{{Args: a, InsertOpts: &opts}})
		return err
	})
}

// listedObject is a partner object a reconciliation reads, and the
// contract's actions whose links it can be the source of.
type listedObject struct {
	provider *spec.Provider
	object   *spec.Object
	sources  []*spec.Action // actions of triggers reading this object
}

// Reconcile lists every object the installation's contract reads or
// writes (those with a list endpoint), page by page with bounded memory,
// and compares each with the links: paired or not, and every field Accord
// wrote that now holds another value. With on_drift: revert, such fields
// are marked to be written back. The report is stored (GET …/reconcile)
// and counted in accord_reconciliation_diffs_total.
func (s *Syncer) Reconcile(ctx context.Context, tenantID, installationID string) (Report, error) {
	st := s.deps.Store
	inst, err := st.GetInstallation(ctx, tenantID, installationID)
	if errors.Is(err, store.ErrNotFound) {
		return Report{}, queue.Cancel(err)
	}
	if err != nil {
		return Report{}, fmt.Errorf("syncer: reading installation: %w", err)
	}
	c, err := s.deps.Catalog.Contract(inst.Contract, inst.ContractVersion)
	if err != nil {
		return Report{}, fmt.Errorf("syncer: %w", err)
	}
	rep := Report{InstallationID: inst.ID, StartedAt: s.deps.Now(), Complete: true, Repair: spec.DriftReport, Objects: []ObjectReport{}}
	if c.OnDrift == spec.DriftRevert {
		rep.Repair = spec.DriftRevert
	}
	save := func() error {
		raw, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		return st.PutReconciliation(ctx, store.Reconciliation{TenantID: tenantID, InstallationID: installationID,
			StartedAt: rep.StartedAt, FinishedAt: rep.FinishedAt, Report: raw})
	}
	if err := save(); err != nil {
		return rep, fmt.Errorf("syncer: storing reconciliation: %w", err)
	}
	for _, lo := range s.listedObjects(c) {
		or := s.reconcileObject(ctx, inst, c, lo)
		rep.Complete = rep.Complete && or.Complete
		rep.Objects = append(rep.Objects, or)
	}
	rep.FinishedAt = s.deps.Now()
	if err := save(); err != nil {
		return rep, fmt.Errorf("syncer: storing reconciliation: %w", err)
	}
	s.deps.Logger.InfoContext(ctx, "reconciliation done", "tenant_id", tenantID, "installation_id", installationID, "complete", rep.Complete)
	return rep, nil
}

// listedObjects are the objects of c's providers that it reads or writes
// and that have a list endpoint, in contract order.
func (s *Syncer) listedObjects(c *spec.Contract) []listedObject {
	var out []listedObject
	seen := map[string]int{}
	add := func(provider, object string) int {
		key := provider + "." + object
		if i, ok := seen[key]; ok {
			return i
		}
		p := s.deps.Catalog.Providers[provider]
		if p == nil || p.Objects[object] == nil || p.Objects[object].Endpoints.List == nil {
			return -1
		}
		seen[key] = len(out)
		out = append(out, listedObject{provider: p, object: p.Objects[object]})
		return len(out) - 1
	}
	for _, name := range sortedKeys(c.Triggers) {
		t := c.Triggers[name]
		provider, object := "", ""
		switch {
		case t.Schedule != nil:
			provider, object = t.Schedule.Provider, t.Schedule.Object
		case t.Webhook != nil && len(t.Webhook.Events) > 0:
			if p := s.deps.Catalog.Providers[t.Webhook.Provider]; p != nil && p.Webhooks != nil {
				if et := p.Webhooks.Events[t.Webhook.Events[0]]; et != nil {
					provider, object = t.Webhook.Provider, et.Object
				}
			}
		}
		if i := add(provider, object); i >= 0 {
			for _, a := range c.Actions {
				if a.Trigger == name {
					out[i].sources = append(out[i].sources, a)
				}
			}
		}
	}
	for _, a := range c.Actions {
		add(a.Provider, a.Object)
	}
	return out
}

func (s *Syncer) reconcileObject(ctx context.Context, inst store.Installation, c *spec.Contract, lo listedObject) ObjectReport {
	name := lo.provider.Name + "." + lo.object.Name
	or := ObjectReport{Object: name, Diffs: map[string]int{}, Samples: []DiffSample{}}
	fail := func(err error) ObjectReport {
		or.Error = err.Error()
		return or
	}
	conn, err := s.deps.Store.GetConnection(ctx, inst.TenantID, inst.Connections[lo.provider.Name])
	if err != nil {
		return fail(fmt.Errorf("reading the %s connection: %w", lo.provider.Name, err))
	}
	if why := notRunnable(inst, conn, lo.provider.Name); why != "" {
		return fail(errors.New(why))
	}
	auth, err := s.deps.Credentials.Authorizer(ctx, conn, lo.provider)
	if err != nil {
		return fail(err)
	}
	cn := s.deps.Connector(lo.provider.Name)
	cursor := ""
	seen := map[string]struct{}{}
	for {
		if err := s.waitForRate(ctx, cn, inst.TenantID); err != nil {
			return fail(err)
		}
		page, err := cn.List(ctx, connector.ListCall{Object: lo.object.Name, Cursor: cursor, Limit: s.cfg.PageLimit, Auth: auth})
		if err != nil {
			return fail(fmt.Errorf("listing %s: %w", name, err))
		}
		for _, it := range page.Items {
			id := scalarString(it[lo.object.IDField()])
			if id == "" {
				continue
			}
			or.Listed++
			seen[id] = struct{}{}
			paired, err := s.compare(ctx, inst, c, lo, id, it, &or)
			if err != nil {
				return fail(err)
			}
			if paired {
				or.Paired++
			} else {
				or.Unpaired++
			}
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	or.Complete = true
	if err := s.missing(ctx, inst, c, lo, seen, &or); err != nil {
		or.Error = err.Error()
	}
	if err := s.deletedSources(ctx, inst, c, lo, seen, &or); err != nil && or.Error == "" {
		or.Error = err.Error()
	}
	return or
}

// deletedSources finds the records of this object that actions with an
// on_delete wrote from and that the complete listing no longer shows:
// deleted at the partner with no webhook to say so (or one that was
// lost). Below DeleteGuard of those actions' links, each becomes a
// deletion event the engine applies like a webhook's, in the record's
// order; past it, nothing is handed over and an alert says why.
func (s *Syncer) deletedSources(ctx context.Context, inst store.Installation, c *spec.Contract, lo listedObject, seen map[string]struct{}, or *ObjectReport) error {
	or.SourcesDeletedSamples = []string{}
	source, ok := engine.LinkSourceOf(c, lo.object)
	if !ok {
		return nil
	}
	watched := map[string]bool{}
	targets := map[string]bool{}
	for _, a := range lo.sources {
		if a.OnDelete != "" {
			watched[a.Name], targets[a.Provider+"."+a.Object] = true, true
		}
	}
	if len(watched) == 0 {
		return nil
	}
	links := 0
	gone := map[string]int64{} // source id → the newest version written from it
	for _, target := range sortedKeys(targets) {
		after := store.LinkKey{}
		for {
			page, err := s.deps.Store.ListLinksToObject(ctx, inst.TenantID, inst.ID, target, after, 500)
			if err != nil {
				return fmt.Errorf("reading links: %w", err)
			}
			for _, l := range page {
				if !watched[l.Action] || l.SourceObject != source || l.SourceDeleted {
					continue
				}
				links++
				if _, ok := seen[l.SourceID]; !ok {
					gone[l.SourceID] = max(gone[l.SourceID], l.Version)
				}
			}
			if len(page) < 500 {
				break
			}
			after = page[len(page)-1].LinkKey
		}
	}
	or.SourcesDeleted = len(gone)
	for _, id := range sortedKeys(gone) {
		if len(or.SourcesDeletedSamples) == maxSamples {
			break
		}
		or.SourcesDeletedSamples = append(or.SourcesDeletedSamples, id)
	}
	if len(gone) == 0 {
		return nil
	}
	if float64(len(gone)) > DeleteGuard*float64(links) {
		or.SourcesStopped = true
		if s.deps.Alerter != nil {
			s.deps.Alerter.Raise(ctx, engine.Alert{TenantID: inst.TenantID, InstallationID: inst.ID, Contract: c.Name, Object: or.Object,
				Class: "delete_guard", At: s.deps.Now(),
				Message: fmt.Sprintf("%d of %d %s records Accord wrote from are missing from a complete listing, more than %.0f%%: taken as a fault, nothing is deleted",
					len(gone), links, or.Object, DeleteGuard*100),
				Remediation: "Check that Accord's account at the partner still sees every record (permissions, filters, a partner incident), then reconcile again."})
		}
		return nil
	}
	now := s.deps.Now()
	events := make([]store.Event, 0, len(gone))
	for _, id := range sortedKeys(gone) {
		payload, err := json.Marshal(map[string]any{lo.object.IDField(): id})
		if err != nil {
			return err
		}
		// The newest version written, received now: the deletion wins the
		// tie with what was written, and a later change (a restored record)
		// still comes after it.
		events = append(events, store.Event{TenantID: inst.TenantID, ID: "ev_" + uuid.NewString(), ConnectionID: inst.Connections[lo.provider.Name],
			DedupKey: fmt.Sprintf("deleted/%s/%s/%s/%d", inst.ID, lo.object.Name, id, gone[id]), Type: engine.SyncDeleteType(lo.object.Name),
			ObjectID: id, ObjectVersion: gone[id], Payload: payload, ReceivedAt: now})
	}
	return s.store(ctx, events)
}

// store commits events with their delivery and hands those pending for
// the in-process fast path over after the commit.
func (s *Syncer) store(ctx context.Context, events []store.Event) error {
	var fresh []store.Event
	err := s.deps.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		_, fresh, err = s.stage(ctx, tx, events)
		return err
	})
	if err != nil {
		return fmt.Errorf("storing deletions: %w", err)
	}
	if len(fresh) > 0 {
		s.fast.Dispatch(fresh)
	}
	return nil
}

// stage stores events in tx with their delivery: a job each, or, in a
// process whose workers take events in-process, pending, returned in fresh
// to hand to the fast path once tx has committed. An event already stored
// (its dedup key) is skipped; stored counts the new ones.
func (s *Syncer) stage(ctx context.Context, tx store.Tx, events []store.Event) (stored int, fresh []store.Event, err error) {
	var jobs []river.InsertManyParams
	for _, ev := range events {
		ev.State = store.EventQueued
		if s.fast != nil {
			ev.State = store.EventPending
		}
		inserted, err := tx.InsertEvent(ctx, ev)
		switch {
		case err != nil:
			return 0, nil, fmt.Errorf("storing event for %s: %w", ev.ObjectID, err)
		case !inserted:
		case s.fast != nil:
			fresh = append(fresh, ev)
		default:
			jobs = append(jobs, engine.NewEventJob(ev))
		}
	}
	if len(jobs) > 0 {
		if s.jobs == nil {
			return 0, nil, errors.New("syncer: no queue")
		}
		if _, err := s.jobs.InsertManyTx(ctx, tx, jobs); err != nil {
			return 0, nil, err
		}
	}
	return len(jobs) + len(fresh), fresh, nil
}

// missing counts the links to this kind of object whose object the
// complete listing did not show, and stops (an alert, no conclusion) past
// DeleteGuard.
func (s *Syncer) missing(ctx context.Context, inst store.Installation, c *spec.Contract, lo listedObject, seen map[string]struct{}, or *ObjectReport) error {
	or.MissingSamples = []string{}
	links := 0
	after := store.LinkKey{}
	for {
		page, err := s.deps.Store.ListLinksToObject(ctx, inst.TenantID, inst.ID, or.Object, after, 500)
		if err != nil {
			return fmt.Errorf("reading links: %w", err)
		}
		for _, l := range page {
			if l.TargetID == "" {
				continue
			}
			links++
			if _, ok := seen[l.TargetID]; ok {
				continue
			}
			or.Missing++
			if len(or.MissingSamples) < maxSamples {
				or.MissingSamples = append(or.MissingSamples, l.TargetID)
			}
		}
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].LinkKey
	}
	or.DeletesChecked = true
	if or.Missing > 0 && float64(or.Missing) > DeleteGuard*float64(links) {
		or.DeletesStopped = true
		if s.deps.Alerter != nil {
			s.deps.Alerter.Raise(ctx, engine.Alert{TenantID: inst.TenantID, InstallationID: inst.ID, Contract: c.Name, Object: or.Object,
				Class: "delete_guard", At: s.deps.Now(),
				Message: fmt.Sprintf("%d of %d linked %s objects are missing from a complete listing, more than %.0f%%: taken as a fault, not as deletes",
					or.Missing, links, or.Object, DeleteGuard*100),
				Remediation: "Check that Accord's account at the partner still sees every object (permissions, filters, a partner incident), then reconcile again."})
		}
	}
	return nil
}

// compare checks one listed object against the links: those that wrote it
// (what they wrote, field by field) and those it is the source of.
func (s *Syncer) compare(ctx context.Context, inst store.Installation, c *spec.Contract, lo listedObject, id string, it map[string]any, or *ObjectReport) (bool, error) {
	st := s.deps.Store
	targets, err := st.ListLinksByTarget(ctx, inst.TenantID, inst.ID, or.Object, id)
	if err != nil {
		return false, fmt.Errorf("reading links: %w", err)
	}
	paired := false
	for _, l := range targets {
		paired = paired || l.TargetID != ""
	}
	// Each field against its newest write only: several actions may write
	// one object, and an older link's value is not what the object should
	// hold.
	reverted := map[store.LinkKey]bool{}
	for _, d := range engine.Drifted(it, engine.NewestWritten(targets), time.Time{}) {
		or.Diffs[d.Path]++
		s.metrics.diff(lo.provider.Name, lo.object.Name, d.Path)
		if len(or.Samples) < maxSamples {
			or.Samples = append(or.Samples, DiffSample{ObjectID: id, Field: d.Path, Written: d.Written, Now: d.Now})
		}
		if c.OnDrift != spec.DriftRevert || s.deps.Revert == nil || reverted[d.Key] {
			continue
		}
		reverted[d.Key] = true
		if err := s.deps.Revert(ctx, d.Key, it, lo.provider); err != nil {
			s.deps.Logger.WarnContext(ctx, "reconciliation could not mark a drifted object to be written back", "tenant_id", inst.TenantID, "err", err)
		} else {
			or.Reverted++
		}
	}
	if paired {
		return true, nil
	}
	for _, a := range lo.sources {
		src, sid, ok := linkSource(c, lo.object, id, it)
		if !ok {
			continue
		}
		l, err := st.GetLink(ctx, store.LinkKey{TenantID: inst.TenantID, InstallationID: inst.ID, SourceObject: src, SourceID: sid,
			TargetObject: a.Provider + "." + a.Object, Action: a.Name})
		if err == nil && l.TargetID != "" {
			return true, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return false, fmt.Errorf("reading links: %w", err)
		}
	}
	return false, nil
}
