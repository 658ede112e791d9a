package ui

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/accordhq/accord/internal/access"
	"github.com/accordhq/accord/internal/store"
)

const (
	sessionCookie = "accord_session"
	// csrfCookie seeds the CSRF token of a visitor not signed in yet (the
	// sign-in form).
	csrfCookie     = "accord_csrf"
	sessionPurpose = "ui-session"
	csrfPurpose    = "ui-csrf"
)

// session is the signed content of the session cookie. It names the
// token behind it, never the token: every request re-reads the token, so
// revoking it ends its sessions at once.
type session struct {
	SID     string     `json:"s"` // random; seeds the CSRF token
	Kind    string     `json:"k"` // "token" or "link"
	TokenID string     `json:"i,omitempty"`
	Admin   string     `json:"h,omitempty"` // admin_token sign-in: MAC of the admin token
	Role    store.Role `json:"r"`
	Tenant  string     `json:"t,omitempty"`
	Actor   string     `json:"a"`
	Exp     int64      `json:"e"` // Unix seconds
}

func randomID() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// adminMark binds an admin_token session to the configured token: changing
// admin_token ends those sessions.
func (u *UI) adminMark() string {
	return base64.RawURLEncoding.EncodeToString(u.deps.Signer.Mac("ui-admin", []byte(u.cfg.AdminToken))[:16])
}

// principal checks the session cookie of r and returns who it signs in.
func (u *UI) principal(ctx context.Context, r *http.Request) (session, access.Principal, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, access.Principal{}, false
	}
	var s session
	if err := u.deps.Signer.Open(sessionPurpose, c.Value, &s); err != nil || s.SID == "" {
		return session{}, access.Principal{}, false
	}
	if !u.deps.Now().Before(time.Unix(s.Exp, 0)) {
		return session{}, access.Principal{}, false
	}
	switch s.Kind {
	case "link":
		if s.Tenant == "" {
			return session{}, access.Principal{}, false
		}
		return s, access.Principal{Role: store.RoleTenant, TenantID: s.Tenant, Actor: s.Actor}, true
	case "token":
		if s.TokenID == "" {
			if u.cfg.AdminToken == "" || !hmac.Equal([]byte(s.Admin), []byte(u.adminMark())) {
				return session{}, access.Principal{}, false
			}
			return s, access.Principal{Role: store.RoleAdmin, Actor: "admin_token"}, true
		}
		t, err := u.deps.Store.GetAPIToken(ctx, s.TokenID)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				u.deps.Logger.WarnContext(ctx, "ui: reading the session's token failed", "err", err)
			}
			return session{}, access.Principal{}, false
		}
		if !t.RevokedAt.IsZero() || (!t.ExpiresAt.IsZero() && !u.deps.Now().Before(t.ExpiresAt)) {
			return session{}, access.Principal{}, false
		}
		return s, access.Principal{Role: t.Role, TenantID: t.TenantID, Actor: "token:" + t.ID, TokenID: t.ID}, true
	}
	return session{}, access.Principal{}, false
}

// startSession signs p in: a new session id, so a CSRF token seen before
// sign-in is worthless after it.
func (u *UI) startSession(w http.ResponseWriter, r *http.Request, p access.Principal, kind string, ttl time.Duration) error {
	s := session{SID: randomID(), Kind: kind, TokenID: p.TokenID, Role: p.Role, Tenant: p.TenantID, Actor: p.Actor,
		Exp: u.deps.Now().Add(ttl).Unix()}
	if kind == "token" && p.TokenID == "" {
		s.Admin = u.adminMark()
	}
	v, err := u.deps.Signer.Seal(sessionPurpose, s)
	if err != nil {
		return err
	}
	http.SetCookie(w, u.cookie(r, sessionCookie, v, int(ttl.Seconds())))
	return nil
}

func (u *UI) endSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, u.cookie(r, sessionCookie, "", -1))
}

// https reports whether the browser reached us over TLS (directly, or
// behind a proxy when public_url says https).
func (u *UI) https(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(u.cfg.PublicURL, "https://")
}

// cookie is HttpOnly and SameSite=Strict, Secure over https. When tenant
// pages may be framed by the host product and we are on https, it is
// SameSite=None and Partitioned instead: a browser sends no Strict cookie
// inside a cross-site frame, and Partitioned keeps it to that embedding.
// CSRF tokens and the cross-origin check protect the forms either way.
func (u *UI) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/ui/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: u.https(r)}
	if c.Secure && len(u.cfg.FrameAncestors) > 0 {
		c.SameSite, c.Partitioned = http.SameSiteNoneMode, true
	}
	return c
}

// csrfToken is the token the forms of r's page carry: a MAC of the
// session id, or of the pre-sign-in cookie (set here when missing).
func (u *UI) csrfToken(w http.ResponseWriter, r *http.Request, s session, signedIn bool) string {
	seed := s.SID
	if !signedIn {
		if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 16 {
			seed = c.Value
		} else {
			seed = randomID()
			http.SetCookie(w, u.cookie(r, csrfCookie, seed, 0))
			// The form posted by this page must find it too.
			r.AddCookie(&http.Cookie{Name: csrfCookie, Value: seed})
		}
	}
	return base64.RawURLEncoding.EncodeToString(u.deps.Signer.Mac(csrfPurpose, []byte(seed)))
}

// checkCSRF compares the form's csrf field with the token expected for
// the request's session (or pre-sign-in cookie).
func (u *UI) checkCSRF(r *http.Request, v *view) bool {
	got := r.PostFormValue("csrf")
	return got != "" && hmac.Equal([]byte(got), []byte(v.CSRF))
}
