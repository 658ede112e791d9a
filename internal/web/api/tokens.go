package api

import (
	"context"
	"net/http"
	"time"

	"github.com/accordhq/accord/internal/access"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// Token is the API's view of an API token. Secret is set once, in the
// answer that created it; Accord keeps only its hash.
type Token struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	TenantID  string     `json:"tenant_id,omitempty"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	Secret    string     `json:"token,omitempty"`
}

// TokenInput is the body of POST /api/v1/tokens.
type TokenInput struct {
	Name string `json:"name"`
	// Role is admin, operator, viewer or tenant.
	Role string `json:"role"`
	// TenantID binds the token to a tenant: required for role tenant,
	// allowed for viewer.
	TenantID string `json:"tenant_id,omitempty"`
	// TTL is how long the token works ("720h"); empty: until revoked.
	TTL string `json:"ttl,omitempty"`
}

func toToken(t store.APIToken) Token {
	out := Token{ID: t.ID, Name: t.Name, Role: string(t.Role), TenantID: t.TenantID, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt}
	if !t.ExpiresAt.IsZero() {
		out.ExpiresAt = &t.ExpiresAt
	}
	if !t.RevokedAt.IsZero() {
		out.RevokedAt = &t.RevokedAt
	}
	return out
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request) error {
	var in TokenInput
	if err := decode(r, &in); err != nil {
		return err
	}
	p, _ := access.FromContext(r.Context())
	t, secret, err := a.CreateToken(r.Context(), p, in)
	if err != nil {
		return err
	}
	a.auditToken(r, t, "token.created")
	out := toToken(t)
	out.Secret = secret
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// CreateToken checks in and stores a new token created by p; it returns
// the stored token and its secret, which is never shown again. An invalid
// input is an *Error with status 400. The caller authorises and audits;
// the UI's token page calls it too.
func (a *API) CreateToken(ctx context.Context, p access.Principal, in TokenInput) (store.APIToken, string, error) {
	role := store.Role(in.Role)
	switch {
	case !role.Valid():
		return store.APIToken{}, "", badRequest("role %q: use admin, operator, viewer or tenant", in.Role)
	case role == store.RoleTenant && in.TenantID == "":
		return store.APIToken{}, "", badRequest("a tenant token needs tenant_id")
	case (role == store.RoleAdmin || role == store.RoleOperator) && in.TenantID != "":
		return store.APIToken{}, "", badRequest("an %s token reaches every tenant: leave tenant_id out, or use role tenant or viewer", role)
	case in.Name == "":
		return store.APIToken{}, "", badRequest("name is required: say who or what will use the token")
	}
	if in.TenantID != "" {
		if _, err := a.deps.Store.GetTenant(ctx, in.TenantID); err != nil {
			return store.APIToken{}, "", err
		}
	}
	now := a.deps.Now().UTC()
	secret, hash := access.NewToken()
	t := store.APIToken{ID: access.NewID("tok_"), Hash: hash, Name: in.Name, Role: role, TenantID: in.TenantID,
		CreatedBy: p.Actor, CreatedAt: now}
	if in.TTL != "" {
		d, err := spec.ParseDuration(in.TTL)
		if err != nil || d <= 0 {
			return store.APIToken{}, "", badRequest("ttl %q: give a duration such as 720h", in.TTL)
		}
		t.ExpiresAt = now.Add(d)
	}
	if err := a.deps.Store.CreateAPIToken(ctx, t); err != nil {
		return store.APIToken{}, "", err
	}
	return t, secret, nil
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.deps.Store.ListAPITokens(r.Context())
	if err != nil {
		return err
	}
	out := make([]Token, 0, len(ts))
	for _, t := range ts {
		out = append(out, toToken(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
	return nil
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) error {
	t, err := a.RevokeToken(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	a.auditToken(r, t, "token.revoked")
	writeJSON(w, http.StatusOK, toToken(t))
	return nil
}

// RevokeToken revokes the token with that id (revoking twice keeps the
// first time) and returns it. The caller authorises and audits.
func (a *API) RevokeToken(ctx context.Context, id string) (store.APIToken, error) {
	if err := a.deps.Store.RevokeAPIToken(ctx, id, a.deps.Now().UTC()); err != nil {
		return store.APIToken{}, err
	}
	return a.deps.Store.GetAPIToken(ctx, id)
}

// auditToken records a token's creation or revocation: in its tenant's
// audit log when it is bound to one. The audit log is per tenant, so a
// deployment-wide token's entry goes to the process log instead.
func (a *API) auditToken(r *http.Request, t store.APIToken, action string) {
	p, _ := access.FromContext(r.Context())
	a.AuditToken(r, p, t, action)
}

// AuditToken records p's creation or revocation of t (see auditToken).
func (a *API) AuditToken(r *http.Request, p access.Principal, t store.APIToken, action string) {
	detail := map[string]any{"role": string(t.Role), "name": t.Name}
	if t.TenantID != "" {
		if err := Audit(r.Context(), a.deps.Store, r, p, t.TenantID, action, t.ID, detail); err != nil {
			a.deps.Logger.ErrorContext(r.Context(), "writing the audit log failed", "tenant_id", t.TenantID, "action", action, "err", err)
		}
		return
	}
	a.deps.Logger.InfoContext(r.Context(), "audit: "+action, "actor", p.Actor, "token_id", t.ID, "role", string(t.Role), "remote", r.RemoteAddr)
}
