package ui

import (
	"net/http"
	"slices"

	"github.com/accordhq/accord/internal/store"
)

// errorClasses are the record error classes, for the filter.
var errorClasses = []string{"auth", "permission", "validation", "rate_limit", "partner_down", "bad_data", "not_found"}

var errorStatuses = []store.RecordErrorStatus{store.RecordErrorOpen, store.RecordErrorRetrying, store.RecordErrorResolved}

// recordErrors lists a tenant's record errors, newest first, filtered by
// class, installation and status (open unless asked otherwise).
func (u *UI) recordErrors(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	q := r.URL.Query()
	f := store.RecordErrorFilter{InstallationID: q.Get("installation"), Class: q.Get("class"), Limit: 200}
	status := q.Get("status")
	switch {
	case status == "":
		f.Status = store.RecordErrorOpen
		status = string(store.RecordErrorOpen)
	case status == "any":
	case slices.Contains(errorStatuses, store.RecordErrorStatus(status)):
		f.Status = store.RecordErrorStatus(status)
	default:
		return &pageError{Status: http.StatusBadRequest, Msg: "Unknown status filter."}
	}
	if f.Class != "" && !slices.Contains(errorClasses, f.Class) {
		return &pageError{Status: http.StatusBadRequest, Msg: "Unknown class filter."}
	}
	t, err := u.deps.Store.GetTenant(ctx, v.Tenant)
	if err != nil {
		return err
	}
	insts, err := u.deps.Store.ListInstallations(ctx, v.Tenant)
	if err != nil {
		return err
	}
	list, err := u.deps.Store.ListRecordErrors(ctx, v.Tenant, f)
	if err != nil {
		return err
	}
	titles := map[string]string{}
	for _, in := range insts {
		titles[in.ID] = in.Contract
		if c := u.contract(in); c != nil && c.Title != "" {
			titles[in.ID] = c.Title
		}
	}
	v.Title = t.Name + ": record errors"
	u.render(w, r, http.StatusOK, "record_errors", v, map[string]any{
		"Errors": list, "Installs": insts, "Titles": titles, "Classes": errorClasses, "Statuses": errorStatuses,
		"Class": f.Class, "Installation": f.InstallationID, "Status": status, "Full": len(list) == f.Limit,
	})
	return nil
}
