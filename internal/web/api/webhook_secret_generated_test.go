package api_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/web/api"
)

// TestGeneratedWebhookSecretIsShownOnce: for a partner whose hook URL an
// admin registers by hand and that takes a secret chosen for it
// (manual_secret: generated), connecting without a secret makes Accord
// generate one, answered once with the hook path, sealed as the
// connection's webhook secret and never shown again. A secret the admin
// gives is kept and never echoed; a partner that issues its own secret
// gets none generated.
func TestGeneratedWebhookSecretIsShownOnce(t *testing.T) {
	t.Parallel()
	var vault *credential.Vault
	b := setupClientWith(t, func(d *api.Deps) {
		vault = d.Vault
		d.Providers["forge"] = &spec.Provider{Name: "forge", Auth: spec.Auth{Kind: spec.AuthBearer},
			Webhooks: &spec.Webhooks{Signature: spec.Signature{Scheme: spec.SigGitHub}, ManualSecret: spec.SecretGenerated}}
		d.Providers["issuer"] = &spec.Provider{Name: "issuer", Auth: spec.Auth{Kind: spec.AuthBearer},
			Webhooks: &spec.Webhooks{Signature: spec.Signature{Scheme: spec.SigStripe}}}
	})
	ctx := t.Context()
	sealed := func(id string) string {
		t.Helper()
		c, err := b.st.GetConnection(ctx, "acme", id)
		require.NoError(t, err)
		sec, err := vault.OpenSecret(ctx, "acme", c.Secret)
		require.NoError(t, err)
		return sec.Extra[api.WebhookSecretKey]
	}

	conn, err := b.client.CreateConnection(ctx, "acme", api.ConnectionInput{Provider: "forge", APIKey: "k"})
	require.NoError(t, err)
	require.Regexp(t, regexp.MustCompile(`^[0-9a-f]{64}$`), conn.WebhookSecret, "a 256-bit secret, shown in the answer")
	require.Equal(t, "/hooks/"+conn.ID, conn.HookPath)
	require.Equal(t, conn.WebhookSecret, sealed(conn.ID), "the shown secret is the one webhooks are verified with")
	again, err := b.client.GetConnection(ctx, "acme", conn.ID)
	require.NoError(t, err)
	require.Empty(t, again.WebhookSecret, "shown once: never again")
	list, err := b.client.ListConnections(ctx, "acme")
	require.NoError(t, err)
	for _, c := range list {
		require.Empty(t, c.WebhookSecret)
	}

	given, err := b.client.CreateConnection(ctx, "acme", api.ConnectionInput{Provider: "forge", APIKey: "k", WebhookSecret: "chosen-by-the-admin-1234"})
	require.NoError(t, err)
	require.Empty(t, given.WebhookSecret, "a secret the admin gave is never echoed")
	require.Equal(t, "chosen-by-the-admin-1234", sealed(given.ID))

	issued, err := b.client.CreateConnection(ctx, "acme", api.ConnectionInput{Provider: "issuer", APIKey: "k"})
	require.NoError(t, err)
	require.Empty(t, issued.WebhookSecret, "the partner issues its own secret: none generated")
	require.Empty(t, sealed(issued.ID))
}
