package ui

import (
	"net/http"
	"net/url"
)

// retryRecordError queues the record again, exactly as the API's retry
// does, writes the audit entry and returns to the record error's page.
func (u *UI) retryRecordError(w http.ResponseWriter, r *http.Request, v *view) error {
	id := r.PathValue("id")
	re, err := u.deps.API.RetryRecordError(r.Context(), v.Tenant, id)
	if err != nil {
		return err
	}
	u.audit(r, v, v.Tenant, "record_error.retried", re.ID, map[string]any{"installation_id": re.InstallationID, "class": re.Class})
	http.Redirect(w, r, tenantURL(v.Tenant)+"record-errors/"+url.PathEscape(id)+"?retried=1", http.StatusSeeOther)
	return nil
}
