package api

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"

	"github.com/accordhq/accord/internal/access"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/telemetry"
)

// authorized checks the caller's role against the matched route, then, for
// a state change that succeeded on a tenant, appends an audit entry (who,
// what, when, from where). Reads need access to the tenant in the path;
// anything else than GET or HEAD needs write access to it. Routes without
// a tenant: the catalog is readable by every role, listing or creating
// tenants needs a deployment-wide role (creating: admin or operator), and
// tokens are the admin's.
func (a *API) authorized(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := access.FromContext(r.Context())
		tenant := requestTenant(r)
		write := r.Method != http.MethodGet && r.Method != http.MethodHead
		if msg := refusal(p, r.Pattern, tenant, write); msg != "" {
			writeJSON(w, http.StatusForbidden, errorBody{Error: "forbidden", Detail: msg, RequestID: telemetry.RequestID(r.Context())})
			return
		}
		if !write || tenant == "" {
			next.ServeHTTP(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		if sw.status < 400 {
			a.audit(r, tenant, strings.Replace(r.Pattern, "/api/v1", "", 1), r.URL.Path, map[string]any{"status": sw.status})
		}
	})
}

// requestTenant is the tenant a request acts on: the {tenant} path
// segment, or ?tenant_id= on the tenant-less retry route.
func requestTenant(r *http.Request) string {
	if t := r.PathValue("tenant"); t != "" {
		return t
	}
	if strings.HasPrefix(r.Pattern, "POST /api/v1/record-errors/") {
		return r.URL.Query().Get("tenant_id")
	}
	return ""
}

// refusal says why p may not call the route, or "" when it may.
func refusal(p access.Principal, pattern, tenant string, write bool) string {
	_, path, _ := strings.Cut(pattern, " ")
	switch {
	case strings.HasPrefix(path, "/api/v1/tokens"):
		if !p.CanManageTokens() {
			return "managing API tokens needs an admin token"
		}
	case path == "/api/v1/tenants":
		if write && !p.CanOperate() {
			return "creating a tenant needs an admin or operator token"
		}
		if !p.AllTenants() {
			return "listing tenants needs a token that is not bound to one tenant"
		}
	case tenant != "":
		if !p.CanRead(tenant) {
			return "this token is bound to another tenant"
		}
		if write && !p.CanWrite(tenant) {
			return "a " + string(p.Role) + " token cannot change anything"
		}
	case write:
		if !p.CanOperate() {
			return "this call acts across tenants and needs an admin or operator token"
		}
	}
	return ""
}

// audit appends an entry to tenant's audit log for the request's caller.
// It runs after the change committed: a failure is logged, not returned.
func (a *API) audit(r *http.Request, tenant, action, subject string, detail map[string]any) {
	p, _ := access.FromContext(r.Context())
	if err := Audit(r.Context(), a.deps.Store, r, p, tenant, action, subject, detail); err != nil {
		a.deps.Logger.ErrorContext(r.Context(), "writing the audit log failed", "tenant_id", tenant, "action", action, "err", err)
	}
}

// Audit appends an entry to tenant's audit log for p's request r: who
// (p.Actor), what (action, subject, detail), when (the store's clock) and
// from where (the client's address, the request id). The UI writes its
// entries through it too.
func Audit(ctx context.Context, q store.Queries, r *http.Request, p access.Principal, tenant, action, subject string, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		detail["from"] = host
	}
	if rid := telemetry.RequestID(r.Context()); rid != "" {
		detail["request_id"] = rid
	}
	raw, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	actor := p.Actor
	if actor == "" {
		actor = "unknown"
	}
	_, err = q.AppendAudit(context.WithoutCancel(ctx), store.AuditEntry{TenantID: tenant, Actor: actor, Action: action, Subject: subject, Detail: raw})
	return err
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
