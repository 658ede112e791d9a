package ui

import (
	"net/http"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/web/api"
)

var tokenRoles = []store.Role{store.RoleViewer, store.RoleTenant, store.RoleOperator, store.RoleAdmin}

// tokens lists the API tokens, with the form that creates one (admin).
func (u *UI) tokens(w http.ResponseWriter, r *http.Request, v *view) error {
	return u.renderTokens(w, r, v, http.StatusOK, nil)
}

func (u *UI) renderTokens(w http.ResponseWriter, r *http.Request, v *view, status int, extra map[string]any) error {
	ts, err := u.deps.Store.ListAPITokens(r.Context())
	if err != nil {
		return err
	}
	tenants, err := u.deps.Store.ListTenants(r.Context())
	if err != nil {
		return err
	}
	data := map[string]any{"Tokens": ts, "Roles": tokenRoles, "Tenants": tenants, "Input": api.TokenInput{Role: string(store.RoleViewer)}}
	for k, x := range extra {
		data[k] = x
	}
	v.Title = "API tokens"
	u.render(w, r, status, "tokens", v, data)
	return nil
}

// createToken creates a token and shows its secret, this once.
func (u *UI) createToken(w http.ResponseWriter, r *http.Request, v *view) error {
	in := api.TokenInput{Name: r.PostFormValue("name"), Role: r.PostFormValue("role"), TenantID: r.PostFormValue("tenant_id"),
		TTL: r.PostFormValue("ttl")}
	t, secret, err := u.deps.API.CreateToken(r.Context(), v.P, in)
	if ae, ok := err.(*api.Error); ok {
		return u.renderTokens(w, r, v, ae.Status, map[string]any{"Error": ae.Msg, "Input": in})
	}
	if err != nil {
		return err
	}
	u.deps.API.AuditToken(r, v.P, t, "token.created")
	return u.renderTokens(w, r, v, http.StatusCreated, map[string]any{"Created": t, "Secret": secret})
}

// revokeToken revokes a token; its sessions end with it.
func (u *UI) revokeToken(w http.ResponseWriter, r *http.Request, v *view) error {
	t, err := u.deps.API.RevokeToken(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	u.deps.API.AuditToken(r, v.P, t, "token.revoked")
	http.Redirect(w, r, "/ui/tokens", http.StatusSeeOther)
	return nil
}
