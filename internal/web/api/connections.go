package api

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/accordhq/accord/internal/connection"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/registration"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// Secret.Extra keys holding a connection's webhook signing secrets.
const (
	WebhookSecretKey         = credential.ExtraWebhookSecret
	WebhookSecretPreviousKey = credential.ExtraWebhookSecretPrevious
)

// Scope is a permission a connection holds, described from the provider's
// manifest when it is loaded.
type Scope struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Connection is the API's view of a tenant's connection to a provider. It
// never carries the connection's secret.
type Connection struct {
	ID            string  `json:"id"`
	Provider      string  `json:"provider"`
	State         string  `json:"state"`
	StateReason   string  `json:"state_reason,omitempty"`
	GrantedScopes []Scope `json:"granted_scopes"`
	// Settings are the non-secret values given when connecting (the
	// manifest's connection_settings).
	Settings  map[string]string `json:"settings,omitempty"`
	HookPath  string            `json:"hook_path"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	// WebhookSecret is only in the answer that created the connection,
	// and only when Accord generated it (the manifest's manual_secret:
	// generated): the one time it is shown, to be pasted at the partner
	// beside the hook URL.
	WebhookSecret string `json:"webhook_secret,omitempty"`
}

// CreatedConnection is a new connection and, when Accord generated its
// webhook signing secret, that secret: shown once, never stored in clear.
type CreatedConnection struct {
	store.Connection
	WebhookSecret string
}

// ConnectionInput is the body of POST /api/v1/tenants/{tenant}/connections:
// an API-key, bearer or basic-auth connection. The server reads it and the
// Client sends it, so the two cannot drift apart.
type ConnectionInput struct {
	Provider      string `json:"provider"`
	APIKey        string `json:"api_key,omitempty"`
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	WebhookSecret string `json:"webhook_secret,omitempty"`
	// Settings are the provider's connection_settings (a subdomain, a
	// user's email): checked against the manifest, stored in clear.
	Settings map[string]string `json:"settings,omitempty"`
	// Scopes granted to the connection; nil grants all the provider's
	// scopes, an empty slice none. No omitempty: it would turn "none" into
	// "all".
	Scopes []string `json:"scopes"`
}

func (a *API) toConnection(c store.Connection) Connection {
	out := Connection{ID: c.ID, Provider: c.Provider, State: string(c.State), StateReason: c.StateReason,
		GrantedScopes: []Scope{}, Settings: c.Settings, HookPath: "/hooks/" + c.ID, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	p := a.deps.Providers[c.Provider]
	for _, s := range c.GrantedScopes {
		sj := Scope{Name: s}
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
	var in ConnectionInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := a.CreateConnection(r.Context(), r.PathValue("tenant"), "admin api", in)
	if err != nil {
		return err
	}
	out := a.toConnection(c.Connection)
	out.WebhookSecret = c.WebhookSecret
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// CreateConnection stores an API-key, bearer or basic connection for
// tenant, active at once (its secret sealed in the vault), with actor in
// its audit entry. OAuth providers are refused with a pointer to their
// flow: their tokens come from the provider, never from a form or a body.
// The admin API and the setup wizard both connect through here.
//
// A provider whose hook URL an admin registers by hand and that accepts a
// secret chosen for it (manual_secret: generated) gets one generated when
// none is given, returned once in CreatedConnection.
func (a *API) CreateConnection(ctx context.Context, tenant, actor string, in ConnectionInput) (CreatedConnection, error) {
	p, ok := a.deps.Providers[in.Provider]
	if !ok {
		return CreatedConnection{}, badRequest("provider %q is not loaded", in.Provider)
	}
	switch p.Auth.Kind {
	case spec.AuthAPIKey, spec.AuthBearer:
		if in.APIKey == "" {
			return CreatedConnection{}, badRequest("provider %s authenticates with an API key: set api_key", p.Name)
		}
	case spec.AuthBasic:
		if in.Username == "" {
			return CreatedConnection{}, badRequest("provider %s uses basic auth: set username and password", p.Name)
		}
	case spec.AuthOAuth2Code:
		return CreatedConnection{}, badRequest("provider %s connects through the browser: create a connect session with POST /api/v1/tenants/{tenant}/connect-sessions", p.Name)
	default:
		return CreatedConnection{}, badRequest("provider %s connects with an OAuth grant: POST /api/v1/tenants/{tenant}/connections/oauth", p.Name)
	}
	if _, err := a.deps.Store.GetTenant(ctx, tenant); err != nil {
		return CreatedConnection{}, err
	}
	scopes := in.Scopes
	if scopes == nil {
		for _, s := range p.Scopes {
			scopes = append(scopes, s.Name)
		}
	}
	for _, s := range scopes {
		if !slices.ContainsFunc(p.Scopes, func(ps spec.Scope) bool { return ps.Name == s }) {
			return CreatedConnection{}, badRequest("scope %q is not one of provider %s's scopes", s, p.Name)
		}
	}
	settings, err := p.CheckSettings(in.Settings)
	if err != nil {
		return CreatedConnection{}, badRequest("%v", err)
	}
	generated := ""
	if in.WebhookSecret == "" && p.Webhooks.GeneratesManualSecret() {
		if generated, err = registration.GenerateSecret(p); err != nil {
			return CreatedConnection{}, err
		}
		in.WebhookSecret = generated
	}
	secret := credential.Secret{APIKey: in.APIKey, Username: in.Username, Password: in.Password}
	if in.WebhookSecret != "" {
		secret.Extra = map[string]string{WebhookSecretKey: in.WebhookSecret}
	}
	sealed, err := a.deps.Vault.SealSecret(ctx, tenant, secret)
	if err != nil {
		return CreatedConnection{}, err
	}
	now := time.Now().UTC()
	c := store.Connection{TenantID: tenant, ID: "conn_" + uuid.NewString(), Provider: p.Name, State: store.ConnectionActive,
		Secret: sealed, GrantedScopes: scopes, Settings: settings, CreatedAt: now, UpdatedAt: now}
	// Through the lifecycle: the row and its audit entry in one
	// transaction.
	life := connection.New(a.deps.Store, nil)
	c, err = life.Create(ctx, c, connection.Entry{Actor: actor, Action: "connection.created",
		Detail: map[string]any{"granted_scopes": scopes, "webhook_secret_generated": generated != ""}})
	if err != nil {
		return CreatedConnection{}, err
	}
	return CreatedConnection{Connection: c, WebhookSecret: generated}, nil
}

func (a *API) listConnections(w http.ResponseWriter, r *http.Request) error {
	tenant := r.PathValue("tenant")
	// An unknown tenant is a 404, not an empty list: a typo in the tenant
	// id must not read as "this tenant has no connections".
	if _, err := a.deps.Store.GetTenant(r.Context(), tenant); err != nil {
		return err
	}
	cs, err := a.deps.Store.ListConnections(r.Context(), tenant)
	if err != nil {
		return err
	}
	out := make([]Connection, 0, len(cs))
	for _, c := range cs {
		out = append(out, a.toConnection(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"connections": out})
	return nil
}

func (a *API) getConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := a.deps.Store.GetConnection(r.Context(), r.PathValue("tenant"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.toConnection(c))
	return nil
}
