package ui

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/web/api"
)

// setupSendTest sends the sample as a real test event (engine.DeliverTest)
// through the wizard's installation, created in state setup on the first
// send: live events still reach no installation of this contract until
// it is enabled. It returns the result, or the problem to show.
func (u *UI) setupSendTest(r *http.Request, v *view, c *spec.Contract, st *setupState, f setupForm) (engine.TestResult, string) {
	ctx := r.Context()
	if u.deps.SendTestEvent == nil {
		return engine.TestResult{}, "This server cannot send test events: use the dry run."
	}
	sample := f.Sample
	if strings.TrimSpace(sample) == "" {
		sample = sampleJSON(c, u.deps.Providers, f.EventType)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(sample), &doc); err != nil || doc == nil {
		return engine.TestResult{}, "The sample record is not a JSON object: " + jsonProblem(err)
	}
	inst, msg := u.setupInstallation(r, v, c, st)
	if msg != "" {
		return engine.TestResult{}, msg
	}
	res, err := u.deps.SendTestEvent(ctx, inst, f.EventType, doc)
	switch {
	case errors.Is(err, engine.ErrTestEvent):
		return res, strings.TrimPrefix(err.Error(), engine.ErrTestEvent.Error()+": ") + "."
	case err != nil:
		u.deps.Logger.ErrorContext(ctx, "ui: sending a test event failed", "tenant_id", v.Tenant, "installation_id", inst.ID, "err", err)
		return res, "The test event could not be sent. Try again; if it persists, tell your operator."
	}
	u.audit(r, v, v.Tenant, "installation.test_event_sent", inst.ID, map[string]any{"event_id": res.EventID,
		"event_type": f.EventType, "outcome": res.Outcome, "repeated": res.Repeated})
	return res, ""
}

// setupTestSync reads one record of a schedule trigger from the partner
// and syncs it through the wizard's installation (engine.TestSync): what a
// sync would do to a record the admin knows, before anything is enabled.
func (u *UI) setupTestSync(r *http.Request, v *view, c *spec.Contract, st *setupState, f setupForm) (engine.TestResult, string) {
	ctx := r.Context()
	if u.deps.TestSync == nil {
		return engine.TestResult{}, "This server cannot run a test sync."
	}
	if !slices.Contains(scheduleTriggers(c), f.SyncTrigger) {
		return engine.TestResult{}, "Choose one of the integration's scheduled syncs."
	}
	if f.SyncObject == "" {
		return engine.TestResult{}, "Enter the id of a record at the partner to sync."
	}
	inst, msg := u.setupInstallation(r, v, c, st)
	if msg != "" {
		return engine.TestResult{}, msg
	}
	res, err := u.deps.TestSync(ctx, inst, f.SyncTrigger, f.SyncObject)
	switch {
	case errors.Is(err, engine.ErrTestEvent):
		return res, strings.TrimPrefix(err.Error(), engine.ErrTestEvent.Error()+": ") + "."
	case err != nil:
		u.deps.Logger.ErrorContext(ctx, "ui: a test sync failed", "tenant_id", v.Tenant, "installation_id", inst.ID, "err", err)
		return res, "The test sync could not run. Try again; if it persists, tell your operator."
	}
	u.audit(r, v, v.Tenant, "installation.test_sync", inst.ID, map[string]any{"event_id": res.EventID,
		"trigger": f.SyncTrigger, "object_id": f.SyncObject, "outcome": res.Outcome})
	return res, ""
}

// scheduleTriggers names c's triggers that sync on a schedule, sorted.
func scheduleTriggers(c *spec.Contract) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(c.Triggers)) {
		if t := c.Triggers[name]; t != nil && t.Schedule != nil {
			out = append(out, name)
		}
	}
	return out
}

// setupInstallation returns the wizard's installation in state setup,
// creating it (or a new one, when the connections were changed since)
// with the state's overrides.
func (u *UI) setupInstallation(r *http.Request, v *view, c *spec.Contract, st *setupState) (store.Installation, string) {
	ctx := r.Context()
	if st.Inst != "" {
		inst, err := u.deps.Store.GetInstallation(ctx, v.Tenant, st.Inst)
		if err == nil && inst.State == store.InstallationSetup && inst.Contract == c.Name && maps.Equal(inst.Connections, st.Conns) {
			if !sameOverrides(inst.Overrides, st.Overrides) {
				if err := u.deps.API.SetOverrides(ctx, c, inst, st.Overrides); err != nil {
					return inst, u.apiProblem(r, v, err)
				}
				inst, err = u.deps.Store.GetInstallation(ctx, v.Tenant, st.Inst)
				if err != nil {
					return inst, u.apiProblem(r, v, err)
				}
			}
			return inst, ""
		}
		if err == nil && inst.State == store.InstallationSetup {
			// Set up over other connections: never enabled, so nothing
			// acted on it but tests; it is retired, visibly.
			if err := u.deps.Store.SetInstallationState(ctx, v.Tenant, inst.ID, store.InstallationUninstalled); err != nil {
				return inst, u.apiProblem(r, v, err)
			}
		}
	}
	in := api.InstallationInput{Contract: c.Name, Connections: st.Conns}
	if !st.Overrides.Empty() {
		in.Overrides = &st.Overrides
	}
	inst, err := u.deps.API.CreateSetup(ctx, v.Tenant, in)
	if err != nil {
		return inst, u.apiProblem(r, v, err)
	}
	u.audit(r, v, v.Tenant, "installation.setup_started", inst.ID, map[string]any{"contract": inst.Contract,
		"contract_version": inst.ContractVersion})
	st.Inst = inst.ID
	return inst, ""
}

func sameOverrides(stored json.RawMessage, o spec.Overrides) bool {
	var cur spec.Overrides
	if len(stored) > 0 && json.Unmarshal(stored, &cur) != nil {
		return false
	}
	a, _ := json.Marshal(cur)
	b, _ := json.Marshal(o)
	return string(a) == string(b)
}

// apiProblem is the message for an API error: its own for a refusal, a
// generic one (logged) otherwise.
func (u *UI) apiProblem(r *http.Request, v *view, err error) string {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae.Msg
	}
	u.deps.Logger.ErrorContext(r.Context(), "ui: setting up the installation failed", "tenant_id", v.Tenant, "err", err)
	return "The installation could not be prepared. Try again; if it persists, tell your operator."
}
