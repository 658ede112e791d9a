package ui

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/web/api"
)

// installationHealth is the Integration Health page of one installation.
func (u *UI) installationHealth(w http.ResponseWriter, r *http.Request, v *view) error {
	inst, h, err := u.installationOf(r, v)
	if err != nil {
		return err
	}
	// Just installed: where the trigger connections' partners must send
	// their webhooks.
	type hook struct{ Provider, URL string }
	var hooks []hook
	installed := r.URL.Query().Get("installed") != ""
	for _, ch := range h.Connections {
		if installed && ch.Trigger {
			hooks = append(hooks, hook{Provider: ch.Provider, URL: u.baseURL(r) + "/hooks/" + ch.Conn.ID})
		}
	}
	return u.renderInstallation(w, r, v, inst, h, map[string]any{"Installed": installed, "Hooks": hooks})
}

// installationOf reads the installation the page is about and its
// health, and titles the page after it.
func (u *UI) installationOf(r *http.Request, v *view) (store.Installation, health, error) {
	inst, err := u.deps.Store.GetInstallation(r.Context(), v.Tenant, r.PathValue("id"))
	if err != nil {
		return inst, health{}, err
	}
	h, err := u.health(r.Context(), inst, windows, true)
	if err != nil {
		return inst, h, err
	}
	v.Title = h.Title
	return inst, h, nil
}

// renderInstallation renders the installation page with extra page data
// (a test sync's result, notices) over its health and syncs.
func (u *UI) renderInstallation(w http.ResponseWriter, r *http.Request, v *view, inst store.Installation, h health, extra map[string]any) error {
	data := map[string]any{"H": h, "CanWrite": v.P.CanWrite(v.Tenant), "Reconnecting": r.URL.Query().Get("reconnect") != "",
		"Synced": r.URL.Query().Get("synced") != "", "TestTrigger": "", "TestObject": "", "TestError": "", "TestResult": ""}
	if c := u.contract(inst); c != nil {
		var triggers []string
		for _, name := range slices.Sorted(maps.Keys(c.Triggers)) {
			if c.Triggers[name] != nil && c.Triggers[name].Schedule != nil {
				triggers = append(triggers, name)
			}
		}
		if len(triggers) > 0 && u.deps.API != nil {
			st, err := u.deps.API.SyncStatus(r.Context(), inst.TenantID, inst.ID)
			if err != nil {
				return err
			}
			data["Sync"], data["SyncTriggers"] = st.Runs, triggers
		}
	}
	for k, val := range extra {
		data[k] = val
	}
	u.render(w, r, http.StatusOK, "installation", v, data)
	return nil
}

// syncInstallation queues a run of the installation's schedules now, as
// the API's POST …/sync does, and returns to its page.
func (u *UI) syncInstallation(w http.ResponseWriter, r *http.Request, v *view) error {
	id := r.PathValue("id")
	queued, err := u.deps.API.SyncNow(r.Context(), v.Tenant, id)
	if errors.Is(err, api.ErrNoSchedule) {
		return &pageError{Status: http.StatusConflict, Msg: "This integration has no schedule to run: it works from webhooks only."}
	}
	if err != nil {
		return err
	}
	u.audit(r, v, v.Tenant, "installation.sync_requested", id, map[string]any{"triggers": queued})
	http.Redirect(w, r, tenantURL(v.Tenant)+"installations/"+id+"?synced=1", http.StatusSeeOther)
	return nil
}

// testSyncRecord syncs one record the admin names and shows, on the
// installation's page, the record and each target before and after.
func (u *UI) testSyncRecord(w http.ResponseWriter, r *http.Request, v *view) error {
	inst, h, err := u.installationOf(r, v)
	if err != nil {
		return err
	}
	trigger, objectID := r.PostFormValue("trigger"), strings.TrimSpace(r.PostFormValue("object_id"))
	extra := map[string]any{"TestTrigger": trigger, "TestObject": objectID}
	if objectID == "" {
		extra["TestError"] = "Enter the id of a record in the partner (for example cus_0001)."
		return u.renderInstallation(w, r, v, inst, h, extra)
	}
	res, err := u.deps.API.TestSyncRecord(r.Context(), v.Tenant, inst.ID, trigger, objectID)
	if err != nil {
		extra["TestError"] = "The test sync did not run: " + err.Error()
		return u.renderInstallation(w, r, v, inst, h, extra)
	}
	u.audit(r, v, v.Tenant, "installation.test_sync", inst.ID, map[string]any{"trigger": trigger, "object_id": objectID})
	raw, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	extra["TestResult"] = string(raw)
	return u.renderInstallation(w, r, v, inst, h, extra)
}
