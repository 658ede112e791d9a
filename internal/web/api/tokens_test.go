package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/access"
	"github.com/accordhq/accord/internal/web/api"
)

func statusOf(err error) int {
	var ce *api.ClientError
	if errors.As(err, &ce) {
		return ce.Status
	}
	return 0
}

// TestTokenRoles: the admin token creates role tokens; each role may do
// what its name says on the API and nothing more.
func TestTokenRoles(t *testing.T) {
	t.Parallel()
	b := setupClient(t)
	ctx := t.Context()
	_, err := b.client.CreateTenant(ctx, "other", "Other")
	require.NoError(t, err)
	as := func(tok api.Token) *api.Client {
		require.True(t, strings.HasPrefix(tok.Secret, access.TokenPrefix), "the secret is shown once, at creation")
		return &api.Client{BaseURL: b.url, Token: tok.Secret}
	}
	mk := func(in api.TokenInput) api.Token {
		tok, err := b.client.CreateToken(ctx, in)
		require.NoError(t, err)
		require.Equal(t, "admin_token", tok.CreatedBy)
		return tok
	}
	viewer := as(mk(api.TokenInput{Name: "dashboards", Role: "viewer"}))
	operator := as(mk(api.TokenInput{Name: "on-call", Role: "operator"}))
	tenantTok := mk(api.TokenInput{Name: "acme host", Role: "tenant", TenantID: "acme"})
	tenant := as(tenantTok)

	// Viewer: reads everything, changes nothing.
	_, err = viewer.ListConnections(ctx, "acme")
	require.NoError(t, err)
	_, err = viewer.CreateTenant(ctx, "v", "V")
	require.Equal(t, http.StatusForbidden, statusOf(err))
	_, err = viewer.CreateConnection(ctx, "acme", api.ConnectionInput{Provider: "helpdesk", APIKey: "k"})
	require.Equal(t, http.StatusForbidden, statusOf(err), "a viewer is refused a state change")
	_, err = viewer.CreateToken(ctx, api.TokenInput{Name: "x", Role: "admin"})
	require.Equal(t, http.StatusForbidden, statusOf(err))

	// Operator: every tenant's actions, not tokens.
	_, err = operator.CreateConnection(ctx, "other", api.ConnectionInput{Provider: "helpdesk", APIKey: "k"})
	require.NoError(t, err)
	_, err = operator.ListTokens(ctx)
	require.Equal(t, http.StatusForbidden, statusOf(err))

	// Tenant: its own tenant only.
	_, err = tenant.CreateConnection(ctx, "acme", api.ConnectionInput{Provider: "helpdesk", APIKey: "k"})
	require.NoError(t, err)
	_, err = tenant.ListConnections(ctx, "other")
	require.Equal(t, http.StatusForbidden, statusOf(err), "another tenant's data")
	_, err = tenant.CreateTenant(ctx, "t2", "T2")
	require.Equal(t, http.StatusForbidden, statusOf(err))

	// Every state change is in the tenant's audit log, with who did it.
	entries, err := b.st.ListAudit(ctx, "acme", 0, 100)
	require.NoError(t, err)
	last := entries[len(entries)-1]
	require.Equal(t, "token:"+tenantTok.ID, last.Actor)
	require.Equal(t, "POST /tenants/{tenant}/connections", last.Action)
	var detail map[string]any
	require.NoError(t, json.Unmarshal(last.Detail, &detail))
	require.Equal(t, "127.0.0.1", detail["from"])

	// Revoked: refused at once.
	_, err = b.client.RevokeToken(ctx, tenantTok.ID)
	require.NoError(t, err)
	_, err = tenant.ListConnections(ctx, "acme")
	require.Equal(t, http.StatusUnauthorized, statusOf(err))
	require.Contains(t, err.Error(), "revoked")

	list, err := b.client.ListTokens(ctx)
	require.NoError(t, err)
	require.Len(t, list, 3)
	for _, tok := range list {
		require.Empty(t, tok.Secret, "a list never shows a secret")
	}
	require.NotNil(t, list[2].RevokedAt)
}

func TestTokenValidation(t *testing.T) {
	t.Parallel()
	b := setupClient(t)
	for _, in := range []api.TokenInput{
		{Name: "x", Role: "root"},
		{Name: "x", Role: "tenant"},
		{Name: "x", Role: "operator", TenantID: "acme"},
		{Role: "viewer"},
		{Name: "x", Role: "viewer", TTL: "soon"},
	} {
		_, err := b.client.CreateToken(t.Context(), in)
		require.Equal(t, http.StatusBadRequest, statusOf(err), "%+v", in)
	}
	_, err := b.client.CreateToken(t.Context(), api.TokenInput{Name: "x", Role: "tenant", TenantID: "nobody"})
	require.Equal(t, http.StatusNotFound, statusOf(err))
}

func TestUILinkNeedsSigner(t *testing.T) {
	t.Parallel()
	b := setupClient(t)
	_, err := b.client.CreateUILink(t.Context(), "acme", "")
	require.Equal(t, http.StatusNotImplemented, statusOf(err))

	signer, err := access.NewSigner(make([]byte, 32))
	require.NoError(t, err)
	b = setupClientWith(t, func(d *api.Deps) { d.Signer, d.PublicURL = signer, "https://accord.example/" })
	l, err := b.client.CreateUILink(t.Context(), "acme", "10m")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(l.Path, api.UILinkPath))
	require.Equal(t, "https://accord.example"+l.Path, l.URL)
	link, err := signer.OpenLink(strings.TrimPrefix(l.Path, api.UILinkPath+"?t="), l.ExpiresAt.Add(-1))
	require.NoError(t, err)
	require.Equal(t, "acme", link.TenantID)
	_, err = b.st.ConsumeUILink(context.Background(), "acme", link.ID)
	require.NoError(t, err, "the link is stored for its single use")
	_, err = b.client.CreateUILink(t.Context(), "acme", "2h")
	require.Equal(t, http.StatusBadRequest, statusOf(err))
}
