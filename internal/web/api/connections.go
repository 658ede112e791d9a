package api

import (
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// Secret.Extra keys holding a connection's webhook signing secrets.
const (
	WebhookSecretKey         = "webhook_secret"
	WebhookSecretPreviousKey = "webhook_secret_previous"
)

type scopeJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type connectionJSON struct {
	ID            string      `json:"id"`
	Provider      string      `json:"provider"`
	State         string      `json:"state"`
	StateReason   string      `json:"state_reason,omitempty"`
	GrantedScopes []scopeJSON `json:"granted_scopes"`
	HookPath      string      `json:"hook_path"`
	CreatedAt     time.Time   `json:"created_at"`
	UpdatedAt     time.Time   `json:"updated_at"`
}

func (a *API) toConnectionJSON(c store.Connection) connectionJSON {
	out := connectionJSON{ID: c.ID, Provider: c.Provider, State: string(c.State), StateReason: c.StateReason,
		GrantedScopes: []scopeJSON{}, HookPath: "/hooks/" + c.ID, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	p := a.deps.Providers[c.Provider]
	for _, s := range c.GrantedScopes {
		sj := scopeJSON{Name: s}
		if p != nil {
			for _, ps := range p.Scopes {
				if ps.Name == s {
					sj.Description = ps.Description
				}
			}
		}
		out.GrantedScopes = append(out.GrantedScopes, sj)
	}
	return out
}

// createConnection stores an API-key style connection. OAuth providers
// connect through a connect session instead: their tokens come from the
// provider, never from an API body.
func (a *API) createConnection(w http.ResponseWriter, r *http.Request) error {
	tenant := r.PathValue("tenant")
	var in struct {
		Provider      string   `json:"provider"`
		APIKey        string   `json:"api_key"`
		Username      string   `json:"username"`
		Password      string   `json:"password"`
		WebhookSecret string   `json:"webhook_secret"`
		Scopes        []string `json:"scopes"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	p, ok := a.deps.Providers[in.Provider]
	if !ok {
		return badRequest("provider %q is not loaded", in.Provider)
	}
	switch p.Auth.Kind {
	case spec.AuthAPIKey, spec.AuthBearer:
		if in.APIKey == "" {
			return badRequest("provider %s authenticates with an API key: set api_key", p.Name)
		}
	case spec.AuthBasic:
		if in.Username == "" {
			return badRequest("provider %s uses basic auth: set username and password", p.Name)
		}
	default:
		return badRequest("provider %s connects through OAuth: create a connect session instead", p.Name)
	}
	if _, err := a.deps.Store.GetTenant(r.Context(), tenant); err != nil {
		return err
	}
	scopes := in.Scopes
	if scopes == nil {
		for _, s := range p.Scopes {
			scopes = append(scopes, s.Name)
		}
	}
	for _, s := range scopes {
		if !slices.ContainsFunc(p.Scopes, func(ps spec.Scope) bool { return ps.Name == s }) {
			return badRequest("scope %q is not one of provider %s's scopes", s, p.Name)
		}
	}
	secret := credential.Secret{APIKey: in.APIKey, Username: in.Username, Password: in.Password}
	if in.WebhookSecret != "" {
		secret.Extra = map[string]string{WebhookSecretKey: in.WebhookSecret}
	}
	sealed, err := a.deps.Vault.SealSecret(r.Context(), tenant, secret)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	c := store.Connection{TenantID: tenant, ID: "conn_" + uuid.NewString(), Provider: p.Name, State: store.ConnectionActive,
		Secret: sealed, GrantedScopes: scopes, CreatedAt: now, UpdatedAt: now}
	if err := a.deps.Store.CreateConnection(r.Context(), c); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.toConnectionJSON(c))
	return nil
}

func (a *API) listConnections(w http.ResponseWriter, r *http.Request) error {
	cs, err := a.deps.Store.ListConnections(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return err
	}
	out := make([]connectionJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, a.toConnectionJSON(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"connections": out})
	return nil
}

func (a *API) getConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := a.deps.Store.GetConnection(r.Context(), r.PathValue("tenant"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.toConnectionJSON(c))
	return nil
}
