package access

import (
	"context"

	"github.com/accordhq/accord/internal/store"
)

// Principal is an authenticated caller.
type Principal struct {
	Role store.Role
	// TenantID binds the caller to one tenant; empty reaches every tenant.
	TenantID string
	// Actor names the caller in the audit log: "admin_token",
	// "token:tok_…" or "link:<tenant>". Never a secret.
	Actor string
	// TokenID is the API token behind the caller; empty for the admin
	// token and for links.
	TokenID string
}

// AllTenants reports whether the caller reaches every tenant.
func (p Principal) AllTenants() bool {
	return p.TenantID == "" && p.Role != store.RoleTenant && p.Role.Valid()
}

// CanRead reports whether the caller may read tenant's data.
func (p Principal) CanRead(tenant string) bool {
	return p.AllTenants() || (p.TenantID != "" && p.TenantID == tenant)
}

// CanWrite reports whether the caller may change tenant's data (retry,
// reconnect, pause, install…). A viewer never may.
func (p Principal) CanWrite(tenant string) bool {
	switch p.Role {
	case store.RoleAdmin, store.RoleOperator:
		return true
	case store.RoleTenant:
		return p.TenantID != "" && p.TenantID == tenant
	}
	return false
}

// CanOperate reports whether the caller may make deployment-wide changes
// (create tenants).
func (p Principal) CanOperate() bool {
	return p.Role == store.RoleAdmin || p.Role == store.RoleOperator
}

// CanManageTokens reports whether the caller may create and revoke tokens.
func (p Principal) CanManageTokens() bool { return p.Role == store.RoleAdmin }

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the caller WithPrincipal stored.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
