package api_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/web/api"
)

func TestCreateConnectionWithSettings(t *testing.T) {
	t.Parallel()
	b := setupClientWith(t, func(d *api.Deps) {
		d.Providers["helpdesk"].Settings = map[string]*spec.ConnectionSetting{
			"subdomain": {Description: "your subdomain", Format: spec.SettingDNSLabel},
		}
	})
	ctx := t.Context()

	_, err := b.client.CreateConnection(ctx, "acme", api.ConnectionInput{Provider: "helpdesk", APIKey: "k"})
	require.ErrorContains(t, err, "needs subdomain", "a required setting left out")
	_, err = b.client.CreateConnection(ctx, "acme", api.ConnectionInput{Provider: "helpdesk", APIKey: "k",
		Settings: map[string]string{"subdomain": "evil.example.com"}})
	require.ErrorContains(t, err, "one DNS label")
	_, err = b.client.CreateConnection(ctx, "acme", api.ConnectionInput{Provider: "helpdesk", APIKey: "k",
		Settings: map[string]string{"subdomain": "acme", "host": "x"}})
	require.ErrorContains(t, err, `no connection setting "host"`)

	c, err := b.client.CreateConnection(ctx, "acme", api.ConnectionInput{Provider: "helpdesk", APIKey: "k",
		Settings: map[string]string{"subdomain": "Acme"}})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"subdomain": "acme"}, c.Settings)
	stored, err := b.st.GetConnection(ctx, "acme", c.ID)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"subdomain": "acme"}, stored.Settings)
}
