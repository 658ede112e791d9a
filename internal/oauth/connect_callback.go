package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/accordhq/accord/internal/connection"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/store"
)

// connectCallback finishes the flow: consume the state (single use), trade
// the code for tokens, compare the granted scopes with the required ones,
// store the sealed secret, and show the outcome. A replayed, forged or
// expired state changes nothing.
func (m *Manager) connectCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	stateParam := q.Get("state")
	if stateParam == "" {
		renderInvalidState(w)
		return
	}
	st, err := m.st.ConsumeOAuthState(ctx, stateParam)
	if errors.Is(err, store.ErrNotFound) {
		renderInvalidState(w)
		return
	}
	if err != nil {
		m.callbackFailed(w, r, err, "consuming state", "")
		return
	}
	if !m.cfg.Now().Before(st.ExpiresAt) {
		renderPage(w, http.StatusBadRequest, pageData{
			Title:   "This sign-in has expired",
			Message: "Too much time passed at the provider. Start connecting again from the application.",
		})
		return
	}
	var pending pendingAuth
	raw, err := m.vault.Open(ctx, st.TenantID, st.Sealed)
	if err == nil {
		err = json.Unmarshal(raw, &pending)
	}
	if err != nil {
		m.callbackFailed(w, r, err, "opening state", "")
		return
	}
	p, err := m.Provider(st.Provider)
	if err != nil {
		m.callbackFailed(w, r, err, "provider", pending.ReturnURL)
		return
	}
	if e := q.Get("error"); e != "" {
		// The user declined, or the provider refused the request.
		m.cfg.Logger.InfoContext(ctx, "connect declined at provider", "tenant_id", st.TenantID, "provider", p.Name, "error_code", e)
		renderPage(w, http.StatusBadRequest, pageData{
			Title:     p.displayName() + " did not grant access",
			Message:   fmt.Sprintf("%s answered %q. Nothing was changed; you can try again from the application.", p.displayName(), e),
			ReturnURL: pending.ReturnURL,
		})
		return
	}

	xctx := context.WithValue(ctx, oauth2.HTTPClient, m.client)
	var opts []oauth2.AuthCodeOption
	if pending.Verifier != "" {
		opts = append(opts, oauth2.VerifierOption(pending.Verifier))
	}
	cfg := p.oauth2Config(m.redirectURL(), p.authStyle())
	var tok *oauth2.Token
	err = m.withClientAuth(p, func(style oauth2.AuthStyle) error {
		var err error
		tok, err = p.oauth2Config(m.redirectURL(), style).Exchange(xctx, q.Get("code"), opts...)
		return err
	})
	if err != nil {
		terr := tokenError(p.Name, err, p.ClientSecret)
		m.cfg.Logger.WarnContext(ctx, "connect token exchange failed", "tenant_id", st.TenantID, "provider", p.Name, "error", terr)
		msg := fmt.Sprintf("%s did not accept the sign-in. Nothing was changed; try again from the application.", p.displayName())
		var te *TokenError
		if errors.As(terr, &te) && (te.Code == "invalid_client" || te.Code == "unauthorized_client" || te.StatusCode == http.StatusUnauthorized) {
			msg = fmt.Sprintf("%s rejected Accord's client credentials. Ask your administrator to check the %s configuration; nothing was changed.", p.displayName(), p.displayName())
		}
		renderPage(w, http.StatusBadGateway, pageData{Title: "The connection could not be completed", Message: msg, ReturnURL: pending.ReturnURL})
		return
	}

	granted := grantedScopes(tok, cfg.Scopes)
	missing := p.missingScopes(granted)
	sec := credential.Secret{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenType: tok.Type(), Expiry: tok.Expiry}
	c, err := m.saveConnection(ctx, st, p, sec, granted, missing, p.accountID(tok), pending)
	var ac *connection.AccountChangedError
	if errors.As(err, &ac) {
		// The new grant is for another account: it is revoked rather than
		// left live and unused, and nothing changes here.
		if p.RevokeURL != "" && tok.RefreshToken != "" {
			_ = m.revoke(ctx, p, credential.Secret{}, tok.RefreshToken, "refresh_token")
		}
		m.cfg.Logger.WarnContext(ctx, "reconnect refused: another provider account", "tenant_id", st.TenantID,
			"connection_id", st.ConnectionID, "provider", p.Name)
		renderPage(w, http.StatusConflict, pageData{
			Title: "You signed in to " + p.displayName() + " as a different account",
			Message: "This connection belongs to another " + p.displayName() + " account, and the writes waiting for it must not go elsewhere. " +
				"Sign in again as the original account, or ask your administrator for a reconnect link that allows changing the account.",
			ReturnURL: pending.ReturnURL,
		})
		return
	}
	if err != nil {
		m.callbackFailed(w, r, err, "saving connection", pending.ReturnURL)
		return
	}
	m.cfg.Logger.InfoContext(ctx, "connection connected", "tenant_id", c.TenantID, "connection_id", c.ID,
		"provider", p.Name, "state", string(c.State))

	if len(missing) > 0 {
		renderPage(w, http.StatusOK, pageData{
			Title:     "Connected to " + p.displayName() + ", but permissions are missing",
			Message:   "Accord needs every permission below to work. Reconnect and approve them; until then Accord will not write to " + p.displayName() + ".",
			Missing:   missing,
			ReturnURL: pending.ReturnURL,
		})
		return
	}
	renderPage(w, http.StatusOK, pageData{
		Title:     "Connected to " + p.displayName(),
		Message:   "You can close this page and return to the application.",
		ReturnURL: pending.ReturnURL,
	})
}

// saveConnection creates the connection or, on reconnect, updates the
// existing one in place (same id), refusing a grant for another provider
// account unless allowAccountChange.
func (m *Manager) saveConnection(ctx context.Context, st store.OAuthState, p *ProviderConfig, sec credential.Secret, granted []string,
	missing []Scope, accountID string, pending pendingAuth,
) (store.Connection, error) {
	sealed, err := m.vault.SealSecret(ctx, st.TenantID, sec)
	if err != nil {
		return store.Connection{}, err
	}
	state, reason := store.ConnectionActive, ""
	if len(missing) > 0 {
		state, reason = store.ConnectionMissingScopes, missingReason(missing)
	}
	if st.ConnectionID != "" {
		return m.life.Reconnect(ctx, st.TenantID, st.ConnectionID, "tenant", connection.Grant{
			Secret: sealed, GrantedScopes: granted, TokenExpiresAt: sec.Expiry, AccountID: accountID,
			AllowAccountChange: pending.AllowAccountChange, State: state, Reason: reason,
		})
	}
	now := m.cfg.Now()
	detail := map[string]any{"granted_scopes": granted}
	if accountID != "" {
		detail["account_id"] = accountID
	}
	return m.life.Create(ctx, store.Connection{
		TenantID: st.TenantID, ID: newConnectionID(), Provider: p.Name,
		State: state, StateReason: reason, Secret: sealed, GrantedScopes: granted,
		TokenExpiresAt: sec.Expiry, AccountID: accountID, Settings: pending.Settings, CreatedAt: now, UpdatedAt: now,
	}, connection.Entry{Actor: "tenant", Action: "connection.created", Detail: detail})
}

func renderInvalidState(w http.ResponseWriter) {
	renderPage(w, http.StatusBadRequest, pageData{
		Title:   "This sign-in link is not valid",
		Message: "It was already used, or it did not come from Accord. Nothing was changed. Start connecting again from the application.",
	})
}

func (m *Manager) callbackFailed(w http.ResponseWriter, r *http.Request, err error, what, returnURL string) {
	m.cfg.Logger.ErrorContext(r.Context(), "connect callback failed", "step", what, "error", err)
	renderPage(w, http.StatusInternalServerError, pageData{
		Title:     "Something went wrong",
		Message:   "Accord could not finish the connection. Start again from the application in a moment.",
		ReturnURL: returnURL,
	})
}
