package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/accordhq/accord/internal/store"
)

// webhookSecretInput is the body of PUT …/connections/{id}/webhook-secret.
type webhookSecretInput struct {
	// Secret is the new signing secret the partner will use.
	Secret string `json:"secret"`
	// KeepPrevious keeps the current secret valid beside the new one (the
	// default), so webhooks the partner signs while it switches over are
	// not refused. Retire it with DELETE …/webhook-secret/previous.
	KeepPrevious *bool `json:"keep_previous,omitempty"`
}

// WebhookSecretState says which webhook secrets a connection accepts,
// never what they are.
type WebhookSecretState struct {
	Current  bool `json:"current"`
	Previous bool `json:"previous"`
}

// setWebhookSecret rotates a connection's webhook signing secret: the new
// one is current and, unless keep_previous is false, the old one stays
// valid as previous until retired. Ingress picks the change up within its
// connection cache's lifetime (a few seconds).
func (a *API) setWebhookSecret(w http.ResponseWriter, r *http.Request) error {
	var in webhookSecretInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Secret) == "" {
		return badRequest("secret is required: the signing secret the partner will use from now on")
	}
	keep := in.KeepPrevious == nil || *in.KeepPrevious
	state, err := a.editWebhookSecrets(r, "connection.webhook_secret_rotated", func(extra map[string]string) {
		old := extra[WebhookSecretKey]
		delete(extra, WebhookSecretPreviousKey)
		if keep && old != "" && old != in.Secret {
			extra[WebhookSecretPreviousKey] = old
		}
		extra[WebhookSecretKey] = in.Secret
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, state)
	return nil
}

// retirePreviousWebhookSecret ends a rotation: only the current secret is
// accepted from now on.
func (a *API) retirePreviousWebhookSecret(w http.ResponseWriter, r *http.Request) error {
	state, err := a.editWebhookSecrets(r, "connection.webhook_secret_previous_retired", func(extra map[string]string) {
		delete(extra, WebhookSecretPreviousKey)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, state)
	return nil
}

// editWebhookSecrets rewrites the connection's sealed secret under its row
// lock (a token refresh rewrites the same secret), with an audit entry.
func (a *API) editWebhookSecrets(r *http.Request, action string, edit func(extra map[string]string)) (WebhookSecretState, error) {
	tenant, id := r.PathValue("tenant"), r.PathValue("id")
	var state WebhookSecretState
	var changed store.Connection
	err := a.deps.Store.InTx(r.Context(), func(ctx context.Context, tx store.Tx) error {
		c, err := tx.LockConnection(ctx, tenant, id)
		if err != nil {
			return err
		}
		secret, err := a.deps.Vault.OpenSecret(ctx, tenant, c.Secret)
		if err != nil {
			return err
		}
		if secret.Extra == nil {
			secret.Extra = map[string]string{}
		}
		edit(secret.Extra)
		if c.Secret, err = a.deps.Vault.SealSecret(ctx, tenant, secret); err != nil {
			return err
		}
		c.UpdatedAt = time.Now().UTC()
		if err := tx.UpdateConnection(ctx, c); err != nil {
			return err
		}
		changed = c
		state = WebhookSecretState{Current: secret.Extra[WebhookSecretKey] != "", Previous: secret.Extra[WebhookSecretPreviousKey] != ""}
		detail, _ := json.Marshal(state)
		_, err = tx.AppendAudit(ctx, store.AuditEntry{TenantID: tenant, Actor: "operator", Action: action, Subject: id, Detail: detail})
		return err
	})
	if err == nil && a.deps.OnConnectionChanged != nil {
		a.deps.OnConnectionChanged(r.Context(), changed)
	}
	return state, err
}
