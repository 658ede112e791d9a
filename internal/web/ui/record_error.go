package ui

import (
	"net/http"

	"github.com/accordhq/accord/internal/store"
)

// recordError shows one record error: what failed, the partner's message,
// what to do, and the retry button.
func (u *UI) recordError(w http.ResponseWriter, r *http.Request, v *view) error {
	re, inst, err := u.recordErrorAt(r, v)
	if err != nil {
		return err
	}
	title := inst.Contract
	if c := u.contract(inst); c != nil && c.Title != "" {
		title = c.Title
	}
	v.Title = "Record error: " + re.Object + " " + re.SourceID
	u.render(w, r, http.StatusOK, "record_error", v, map[string]any{
		"E": re, "Inst": inst, "InstTitle": title,
		"CanRetry": re.Status != store.RecordErrorResolved && v.P.CanWrite(v.Tenant),
		"Retried":  r.URL.Query().Get("retried") != "",
	})
	return nil
}

// recordErrorAt loads the record error the request's path names and the
// installation it belongs to, both within the viewer's tenant.
func (u *UI) recordErrorAt(r *http.Request, v *view) (store.RecordError, store.Installation, error) {
	re, err := u.deps.Store.GetRecordError(r.Context(), v.Tenant, r.PathValue("id"))
	if err != nil {
		return store.RecordError{}, store.Installation{}, err
	}
	inst, err := u.deps.Store.GetInstallation(r.Context(), v.Tenant, re.InstallationID)
	if err != nil {
		return store.RecordError{}, store.Installation{}, err
	}
	return re, inst, nil
}
