package store

import (
	"context"
	"time"
)

// Role is what an API token (and the UI session it opens) may do.
type Role string

// Roles, from most to least powerful. A RoleTenant token is bound to one
// tenant; a RoleViewer token may be (a tenant's read-only view) or not.
const (
	// RoleAdmin: everything, including managing tokens.
	RoleAdmin Role = "admin"
	// RoleOperator: every tenant's data and actions, not tokens.
	RoleOperator Role = "operator"
	// RoleViewer: read only.
	RoleViewer Role = "viewer"
	// RoleTenant: one tenant's data and actions (a tenant's admin).
	RoleTenant Role = "tenant"
)

// Valid reports whether r is one of the roles above.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleOperator, RoleViewer, RoleTenant:
		return true
	}
	return false
}

// APIToken is a bearer token for the admin API and the UI. Only the
// SHA-256 of the token is stored: the token itself is shown once, when it
// is created. Tokens are deployment data, not a tenant's: a token without
// TenantID reaches every tenant.
type APIToken struct {
	ID   string // public, "tok_…"; what lists, audit entries and revocation name
	Hash []byte // sha256 of the secret token; unique
	Name string // what the creator called it
	Role Role
	// TenantID binds the token to one tenant; required for RoleTenant,
	// allowed for RoleViewer, empty for the others.
	TenantID  string
	CreatedBy string // the actor who created it
	CreatedAt time.Time
	// ExpiresAt is when the token stops working (zero: never).
	ExpiresAt time.Time
	// RevokedAt is when it was revoked (zero: it was not).
	RevokedAt time.Time
}

// UILink is a single-use grant to open a tenant's pages, created by the
// host product for a tenant's admin. ID is random and unguessable.
type UILink struct {
	TenantID  string
	ID        string
	ExpiresAt time.Time
	CreatedAt time.Time
}

// AccessQueries stores API tokens and single-use UI links.
type AccessQueries interface {
	// CreateAPIToken stores t; a duplicate ID or Hash is ErrConflict.
	CreateAPIToken(ctx context.Context, t APIToken) error
	// GetAPIToken returns the token with that id, revoked or not.
	GetAPIToken(ctx context.Context, id string) (APIToken, error)
	// GetAPITokenByHash returns the token whose Hash is hash, revoked or
	// expired or not: the caller checks (and says why it refuses).
	GetAPITokenByHash(ctx context.Context, hash []byte) (APIToken, error)
	// ListAPITokens returns every token, revoked ones included, oldest
	// first.
	ListAPITokens(ctx context.Context) ([]APIToken, error)
	// RevokeAPIToken sets RevokedAt to at unless the token is already
	// revoked (the first revocation stands). An unknown id is ErrNotFound.
	RevokeAPIToken(ctx context.Context, id string, at time.Time) error

	// CreateUILink stores l; a duplicate (tenant, id) is ErrConflict.
	CreateUILink(ctx context.Context, l UILink) error
	// ConsumeUILink deletes the link and returns it: of two callers with
	// the same link exactly one gets it, and a second call is ErrNotFound.
	// Expiry is the caller's to check.
	ConsumeUILink(ctx context.Context, tenantID, id string) (UILink, error)
	// DeleteExpiredUILinks deletes every link that expired before now and
	// returns how many.
	DeleteExpiredUILinks(ctx context.Context, now time.Time) (int, error)

	// ListAuditNewest returns up to limit of the tenant's audit entries
	// with Seq below beforeSeq (0: from the newest), newest first, keeping
	// those whose actor and action equal the filter's non-empty fields:
	// the audit page. limit <= 0 means 100.
	ListAuditNewest(ctx context.Context, tenantID string, beforeSeq int64, f AuditFilter, limit int) ([]AuditEntry, error)
}

// AuditFilter narrows ListAuditNewest; empty fields do not filter.
type AuditFilter struct {
	Actor  string
	Action string
}
