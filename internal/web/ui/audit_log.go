package ui

import (
	"net/http"
	"strconv"

	"github.com/accordhq/accord/internal/store"
)

const auditPageSize = 100

// auditLog lists the tenant's audit log, newest first, filtered by actor
// and action, a page at a time (?before=<seq>).
func (u *UI) auditLog(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	q := r.URL.Query()
	f := store.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action")}
	var before int64
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 1 {
			return &pageError{Status: http.StatusBadRequest, Msg: "That page of the audit log does not exist."}
		}
		before = n
	}
	t, err := u.deps.Store.GetTenant(ctx, v.Tenant)
	if err != nil {
		return err
	}
	entries, err := u.deps.Store.ListAuditNewest(ctx, v.Tenant, before, f, auditPageSize)
	if err != nil {
		return err
	}
	var older int64
	if len(entries) == auditPageSize {
		older = entries[len(entries)-1].Seq
	}
	v.Title = t.Name + ": audit log"
	u.render(w, r, http.StatusOK, "audit_log", v, map[string]any{"Entries": entries, "Filter": f, "Older": older})
	return nil
}
