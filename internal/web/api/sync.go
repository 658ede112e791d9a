package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"
)

// Syncer runs installations' scheduled syncs on demand (internal/syncer).
type Syncer interface {
	// RunNow queues a run of every schedule trigger of the installation
	// and returns their names; ErrNoSchedule when it has none.
	RunNow(ctx context.Context, tenantID, installationID string) ([]string, error)
	// ReconcileNow queues a full compare of the installation's partner
	// objects with what Accord wrote.
	ReconcileNow(ctx context.Context, tenantID, installationID string) error
	// TestRecord syncs one chosen record now and answers the source and
	// each action's target before and after (JSON-ready); ErrBadTest
	// wraps a request that cannot work (unknown trigger, no schedule or
	// get endpoint).
	TestRecord(ctx context.Context, tenantID, installationID, trigger, objectID string) (any, error)
}

// ErrBadTest marks a test-sync request that cannot work as asked.
var ErrBadTest = errors.New("bad test sync request")

// ErrNoSchedule is what a Syncer returns for a contract without a
// schedule trigger.
var ErrNoSchedule = errors.New("the installation's contract has no schedule trigger to sync")

// SyncRun is where one schedule trigger's sync stands.
type SyncRun struct {
	Trigger string `json:"trigger"`
	// Running: a run is under way; its figures are the run so far.
	Running bool `json:"running"`
	// RecordsDone is how many objects the run (under way, or the last)
	// listed, Changes how many of them were new changes handed to the
	// engine, RecordsPerSecond its listing rate.
	RecordsDone      int64      `json:"records_done"`
	Changes          int64      `json:"changes"`
	RecordsPerSecond float64    `json:"records_per_second"`
	StartedAt        *time.Time `json:"started_at"`
	LastCompletedAt  *time.Time `json:"last_completed_at"`
	NextRunAt        *time.Time `json:"next_run_at"`
	CompletedRuns    int64      `json:"completed_runs"`
	LastError        string     `json:"last_error"`
}

// SyncStatus is an installation's sync, per schedule trigger.
type SyncStatus struct {
	InstallationID string    `json:"installation_id"`
	Runs           []SyncRun `json:"runs"`
	// Queued names the triggers a POST queued a run of.
	Queued []string `json:"queued,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (a *API) syncStatus(ctx context.Context, tenant, id string) (SyncStatus, error) {
	if _, err := a.deps.Store.GetInstallation(ctx, tenant, id); err != nil {
		return SyncStatus{}, err
	}
	states, err := a.deps.Store.ListSyncStates(ctx, tenant, id)
	if err != nil {
		return SyncStatus{}, err
	}
	out := SyncStatus{InstallationID: id, Runs: []SyncRun{}}
	now := a.deps.Now()
	for _, s := range states {
		r := SyncRun{Trigger: s.Trigger, Running: s.Running, RecordsDone: s.RunRecords, Changes: s.RunEvents,
			StartedAt: optTime(s.RunStartedAt), LastCompletedAt: optTime(s.LastCompletedAt), NextRunAt: optTime(s.NextRunAt),
			CompletedRuns: s.Runs, LastError: s.LastError}
		end := now
		if !s.Running && !s.LastCompletedAt.IsZero() {
			end = s.LastCompletedAt
		}
		if secs := end.Sub(s.RunStartedAt).Seconds(); !s.RunStartedAt.IsZero() && secs > 0 {
			r.RecordsPerSecond = float64(s.RunRecords) / secs
		}
		out.Runs = append(out.Runs, r)
	}
	return out, nil
}

// getSync answers where each schedule trigger's sync stands: records done,
// rate, last completion and error.
func (a *API) getSync(w http.ResponseWriter, r *http.Request) error {
	out, err := a.syncStatus(r.Context(), r.PathValue("tenant"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// startSync queues a run of the installation's schedule triggers now
// (202; audited by authorized like every change); 409 when its contract
// has none.
func (a *API) startSync(w http.ResponseWriter, r *http.Request) error {
	if a.deps.Syncer == nil {
		return &Error{Status: http.StatusNotImplemented, Msg: "this process does not run syncs"}
	}
	ctx, tenant, id := r.Context(), r.PathValue("tenant"), r.PathValue("id")
	if _, err := a.deps.Store.GetInstallation(ctx, tenant, id); err != nil {
		return err
	}
	queued, err := a.deps.Syncer.RunNow(ctx, tenant, id)
	if errors.Is(err, ErrNoSchedule) {
		return &Error{Status: http.StatusConflict, Msg: "the installation's contract has no schedule trigger: nothing to sync (add a schedule to a trigger to list the partner's changes)"}
	}
	if err != nil {
		return err
	}
	out, err := a.syncStatus(ctx, tenant, id)
	if err != nil {
		return err
	}
	out.Queued = queued
	writeJSON(w, http.StatusAccepted, out)
	return nil
}

// SyncNow queues a run of the installation's schedule triggers.
func (c *Client) SyncNow(ctx context.Context, tenant, id string) (SyncStatus, error) {
	var out SyncStatus
	err := c.do(ctx, http.MethodPost, installationPath(tenant, id)+"/sync", nil, http.StatusAccepted, &out)
	return out, err
}

// GetSync returns where the installation's syncs stand.
func (c *Client) GetSync(ctx context.Context, tenant, id string) (SyncStatus, error) {
	var out SyncStatus
	err := c.do(ctx, http.MethodGet, installationPath(tenant, id)+"/sync", nil, http.StatusOK, &out)
	return out, err
}

func installationPath(tenant, id string) string {
	return "/api/v1/tenants/" + url.PathEscape(tenant) + "/installations/" + url.PathEscape(id)
}

// startReconcile queues a reconciliation (202); GET …/reconcile reads its
// report once it has started.
func (a *API) startReconcile(w http.ResponseWriter, r *http.Request) error {
	if a.deps.Syncer == nil {
		return &Error{Status: http.StatusNotImplemented, Msg: "this process does not run reconciliations"}
	}
	if err := a.deps.Syncer.ReconcileNow(r.Context(), r.PathValue("tenant"), r.PathValue("id")); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"installation_id": r.PathValue("id"), "queued": true})
	return nil
}

// getReconcile answers the installation's latest reconciliation report
// (finished_at absent while it runs); 404 before the first.
func (a *API) getReconcile(w http.ResponseWriter, r *http.Request) error {
	rec, err := a.deps.Store.GetReconciliation(r.Context(), r.PathValue("tenant"), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(rec.Report)
	return err
}

// Reconcile queues a reconciliation of the installation.
func (c *Client) Reconcile(ctx context.Context, tenant, id string) error {
	return c.do(ctx, http.MethodPost, installationPath(tenant, id)+"/reconcile", nil, http.StatusAccepted, nil)
}

// GetReconciliation returns the installation's latest reconciliation
// report as JSON (internal/syncer.Report).
func (c *Client) GetReconciliation(ctx context.Context, tenant, id string, out any) error {
	return c.do(ctx, http.MethodGet, installationPath(tenant, id)+"/reconcile", nil, http.StatusOK, out)
}

type testSyncRequest struct {
	Trigger  string `json:"trigger"`
	ObjectID string `json:"object_id"`
}

// testSync syncs one chosen record now and answers what it did: the source
// record and each action's target before and after. The setup wizard's
// "test sync" step calls it.
func (a *API) testSync(w http.ResponseWriter, r *http.Request) error {
	if a.deps.Syncer == nil {
		return &Error{Status: http.StatusNotImplemented, Msg: "this process does not run syncs"}
	}
	var in testSyncRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Trigger == "" || in.ObjectID == "" {
		return badRequest("trigger and object_id are required: the schedule trigger to run and the id of a record in its partner object")
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	if _, err := a.deps.Store.GetInstallation(ctx, r.PathValue("tenant"), r.PathValue("id")); err != nil {
		return err
	}
	out, err := a.deps.Syncer.TestRecord(ctx, r.PathValue("tenant"), r.PathValue("id"), in.Trigger, in.ObjectID)
	if errors.Is(err, ErrBadTest) {
		return badRequest("%v", err)
	}
	if err != nil {
		return &Error{Status: http.StatusBadGateway, Msg: "test sync: " + err.Error()}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// TestSync syncs one record now (see testSync); out receives the answer.
func (c *Client) TestSync(ctx context.Context, tenant, id, trigger, objectID string, out any) error {
	return c.do(ctx, http.MethodPost, installationPath(tenant, id)+"/sync/test", testSyncRequest{Trigger: trigger, ObjectID: objectID}, http.StatusOK, out)
}

// SyncStatus answers where an installation's syncs stand (the UI shows it).
func (a *API) SyncStatus(ctx context.Context, tenant, id string) (SyncStatus, error) {
	return a.syncStatus(ctx, tenant, id)
}

// SyncNow queues a run of the installation's schedule triggers (the UI's
// button); ErrNoSchedule when it has none.
func (a *API) SyncNow(ctx context.Context, tenant, id string) ([]string, error) {
	if a.deps.Syncer == nil {
		return nil, &Error{Status: http.StatusNotImplemented, Msg: "this process does not run syncs"}
	}
	return a.deps.Syncer.RunNow(ctx, tenant, id)
}

// TestSyncRecord syncs one record now and answers what it did (the UI's
// test-sync form); ErrBadTest wraps a request that cannot work.
func (a *API) TestSyncRecord(ctx context.Context, tenant, id, trigger, objectID string) (any, error) {
	if a.deps.Syncer == nil {
		return nil, &Error{Status: http.StatusNotImplemented, Msg: "this process does not run syncs"}
	}
	return a.deps.Syncer.TestRecord(ctx, tenant, id, trigger, objectID)
}
