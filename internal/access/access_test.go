package access_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/access"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/sqlite"
)

func TestPrincipalRights(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                       string
		p                          access.Principal
		readA, writeA, readB, oper bool
	}{
		{"admin", access.Principal{Role: store.RoleAdmin}, true, true, true, true},
		{"operator", access.Principal{Role: store.RoleOperator}, true, true, true, true},
		{"viewer", access.Principal{Role: store.RoleViewer}, true, false, true, false},
		{"tenant viewer", access.Principal{Role: store.RoleViewer, TenantID: "a"}, true, false, false, false},
		{"tenant", access.Principal{Role: store.RoleTenant, TenantID: "a"}, true, true, false, false},
		{"tenant without tenant", access.Principal{Role: store.RoleTenant}, false, false, false, false},
		{"nobody", access.Principal{}, false, false, false, false},
	}
	for _, tc := range tests {
		require.Equal(t, tc.readA, tc.p.CanRead("a"), tc.name)
		require.Equal(t, tc.writeA, tc.p.CanWrite("a"), tc.name)
		require.Equal(t, tc.readB, tc.p.CanRead("b"), tc.name)
		require.Equal(t, tc.oper, tc.p.CanOperate(), tc.name)
		require.False(t, tc.p.CanWrite("b") && tc.p.TenantID != "", tc.name)
	}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := sqlite.OpenTest(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := &access.Authenticator{Store: st, AdminToken: "the-admin-token", Now: func() time.Time { return now }}

	p, err := a.Authenticate(ctx, "the-admin-token")
	require.NoError(t, err)
	require.Equal(t, access.Principal{Role: store.RoleAdmin, Actor: "admin_token"}, p)

	live, hash := access.NewToken()
	require.Equal(t, access.Hash(live), hash)
	require.NoError(t, st.CreateAPIToken(ctx, store.APIToken{ID: "tok_1", Hash: hash, Name: "n", Role: store.RoleViewer, ExpiresAt: now.Add(time.Hour)}))
	p, err = a.Authenticate(ctx, live)
	require.NoError(t, err)
	require.Equal(t, access.Principal{Role: store.RoleViewer, Actor: "token:tok_1", TokenID: "tok_1"}, p)

	for name, tok := range map[string]string{"empty": "", "unknown": access.TokenPrefix + "nope", "no prefix": "whatever"} {
		_, err := a.Authenticate(ctx, tok)
		require.ErrorIs(t, err, access.ErrUnauthenticated, name)
	}
	now = now.Add(time.Hour)
	_, err = a.Authenticate(ctx, live)
	require.ErrorIs(t, err, access.ErrUnauthenticated)
	require.Contains(t, err.Error(), "expired")
	require.NotContains(t, err.Error(), live)
}

func TestSignerLinks(t *testing.T) {
	t.Parallel()
	s, err := access.NewSigner(access.DeriveKey([]byte("master"), "ui"))
	require.NoError(t, err)
	now := time.Unix(1_800_000_000, 0)
	tok, err := s.SignLink(access.Link{TenantID: "acme", ID: "lnk_1", ExpiresAt: now.Add(time.Minute).Unix()})
	require.NoError(t, err)
	l, err := s.OpenLink(tok, now)
	require.NoError(t, err)
	require.Equal(t, "acme", l.TenantID)

	_, err = s.OpenLink(tok, now.Add(time.Minute))
	require.ErrorIs(t, err, access.ErrBadLink, "expired")
	payload, mac, _ := strings.Cut(tok, ".")
	forged, err := s.SignLink(access.Link{TenantID: "other", ID: "lnk_1", ExpiresAt: now.Add(time.Minute).Unix()})
	require.NoError(t, err)
	fp, _, _ := strings.Cut(forged, ".")
	_, err = s.OpenLink(fp+"."+mac, now)
	require.ErrorIs(t, err, access.ErrBadLink, "another tenant under the first link's signature")
	other, err := access.NewSigner(access.DeriveKey([]byte("other master"), "ui"))
	require.NoError(t, err)
	_, err = other.OpenLink(tok, now)
	require.ErrorIs(t, err, access.ErrBadLink, "another deployment's key")
	_, err = s.OpenLink(payload, now)
	require.ErrorIs(t, err, access.ErrBadLink)
	var v map[string]any
	require.ErrorIs(t, s.Open("session", tok, &v), access.ErrBadLink, "a link is not a session")
	_, err = access.NewSigner([]byte("short"))
	require.Error(t, err)
}
