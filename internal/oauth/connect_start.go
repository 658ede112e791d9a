package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/accordhq/accord/internal/store"
)

// connectStart checks the signed session, records a single-use state and
// sends the browser to the provider's consent page.
func (m *Manager) connectStart(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, err := m.verifySession(r.URL.Query().Get("session"))
	if err != nil {
		renderPage(w, http.StatusBadRequest, pageData{
			Title:   "This connect link is not valid",
			Message: "The link has expired or was altered. Start connecting again from the application.",
		})
		return
	}
	p, err := m.Provider(sess.Provider)
	if err != nil || p.AuthKind != AuthCode {
		renderPage(w, http.StatusBadRequest, pageData{
			Title:   "This provider cannot be connected here",
			Message: "The provider is not configured for browser sign-in. Ask your administrator.",
		})
		return
	}
	if _, err := m.st.GetTenant(ctx, sess.TenantID); err != nil {
		m.startFailed(w, r, err, "loading tenant")
		return
	}
	if sess.ConnectionID != "" {
		c, err := m.st.GetConnection(ctx, sess.TenantID, sess.ConnectionID)
		if err != nil || c.Provider != p.Name {
			m.startFailed(w, r, err, "loading connection to reconnect")
			return
		}
	}

	pending := pendingAuth{ReturnURL: sess.ReturnURL, AllowAccountChange: sess.AllowAccountChange, Settings: sess.Settings}
	opts := make([]oauth2.AuthCodeOption, 0, len(p.AuthParams)+1)
	if !p.DisablePKCE {
		pending.Verifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(pending.Verifier))
	}
	for k, v := range p.AuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	raw, _ := json.Marshal(pending)
	sealed, err := m.vault.Seal(ctx, sess.TenantID, raw)
	if err != nil {
		m.startFailed(w, r, err, "sealing state")
		return
	}
	now := m.cfg.Now()
	state := randomToken(32)
	// The link is consumed in the transaction that records the sign-in:
	// a link starts one flow, and one that was used, or cancelled by a
	// disconnect, starts none.
	err = m.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.ConsumeConnectSession(ctx, sess.TenantID, sess.ID); err != nil {
			return err
		}
		return tx.CreateOAuthState(ctx, store.OAuthState{
			State:        state,
			TenantID:     sess.TenantID,
			Provider:     p.Name,
			ConnectionID: sess.ConnectionID,
			Sealed:       sealed,
			ExpiresAt:    now.Add(m.cfg.StateTTL),
			CreatedAt:    now,
		})
	})
	if errors.Is(err, store.ErrNotFound) {
		m.cfg.Logger.InfoContext(ctx, "connect link reused or cancelled", "tenant_id", sess.TenantID, "provider", p.Name,
			"connection_id", sess.ConnectionID)
		renderPage(w, http.StatusGone, pageData{
			Title:   "This connect link was already used",
			Message: "Each link starts one sign-in, and a disconnect cancels the links issued before it. Ask for a new link from the application.",
		})
		return
	}
	if err != nil {
		m.startFailed(w, r, err, "storing state")
		return
	}
	m.cfg.Logger.InfoContext(ctx, "connect started", "tenant_id", sess.TenantID, "provider", p.Name,
		"connection_id", sess.ConnectionID)
	http.Redirect(w, r, p.oauth2Config(m.redirectURL(), p.authStyle()).AuthCodeURL(state, opts...), http.StatusFound)
}

func (m *Manager) startFailed(w http.ResponseWriter, r *http.Request, err error, what string) {
	if err == nil || errors.Is(err, store.ErrNotFound) {
		renderPage(w, http.StatusBadRequest, pageData{
			Title:   "This connect link is not valid",
			Message: "The account or connection it refers to no longer exists. Start again from the application.",
		})
		return
	}
	m.cfg.Logger.ErrorContext(r.Context(), "connect start failed", "step", what, "error", err)
	renderPage(w, http.StatusInternalServerError, pageData{
		Title:   "Something went wrong",
		Message: "Accord could not start the connection. Try again in a moment.",
	})
}
