package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
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

// TestPatchConnectionSettings: an admin changes a connection's settings;
// an undeclared name or a bad value is refused with 422 naming the
// setting and changing nothing; the change is audited by name and the
// caches are told the new settings.
func TestPatchConnectionSettings(t *testing.T) {
	t.Parallel()
	changed := make(chan store.Connection, 10)
	b := setupClientWith(t, func(d *api.Deps) {
		d.Providers["helpdesk"].Settings = map[string]*spec.ConnectionSetting{
			"subdomain":  {Description: "your subdomain", Format: spec.SettingDNSLabel},
			"from_email": {Description: "who the changes are recorded as", Format: spec.SettingEmail, Optional: true},
		}
		d.OnConnectionChanged = func(_ context.Context, c store.Connection) { changed <- c }
	})
	ctx := t.Context()
	c, err := b.client.CreateConnection(ctx, "acme", api.ConnectionInput{Provider: "helpdesk", APIKey: "k",
		Settings: map[string]string{"subdomain": "acme"}})
	require.NoError(t, err)

	for _, tc := range []struct {
		settings map[string]string
		want     string
	}{
		{map[string]string{"host": "evil.example.com"}, `connection setting "host" is not declared by provider helpdesk: its settings are from_email, subdomain`},
		{map[string]string{"subdomain": "evil.example.com"}, "subdomain must be one DNS label"},
		{map[string]string{"subdomain": ""}, "helpdesk needs subdomain (your subdomain)"},
		{map[string]string{"from_email": "not an email"}, "from_email must be an email address"},
		{map[string]string{}, "settings is required"},
	} {
		_, err := b.client.SetConnectionSettings(ctx, "acme", c.ID, tc.settings)
		var ce *api.ClientError
		require.ErrorAs(t, err, &ce, tc.want)
		require.Equal(t, http.StatusUnprocessableEntity, ce.Status, tc.want)
		require.Contains(t, ce.Message, tc.want)
	}
	stored, err := b.st.GetConnection(ctx, "acme", c.ID)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"subdomain": "acme"}, stored.Settings, "refused edits change nothing")
	require.Empty(t, changed)

	got, err := b.client.SetConnectionSettings(ctx, "acme", c.ID, map[string]string{"subdomain": "NewCo", "from_email": "ops@example.com"})
	require.NoError(t, err)
	want := map[string]string{"subdomain": "newco", "from_email": "ops@example.com"}
	require.Equal(t, want, got.Settings)
	require.Equal(t, want, (<-changed).Settings, "the caches are told the new settings")
	stored, err = b.st.GetConnection(ctx, "acme", c.ID)
	require.NoError(t, err)
	require.Equal(t, want, stored.Settings)
	entries, err := b.st.ListAudit(ctx, "acme", 0, 100)
	require.NoError(t, err)
	var last store.AuditEntry
	for _, e := range entries {
		if e.Action == "connection.settings_changed" {
			last = e
		}
	}
	require.Equal(t, "admin api", last.Actor)
	require.Equal(t, c.ID, last.Subject)
	require.JSONEq(t, `{"settings":["from_email","subdomain"],"provider":"helpdesk","state":"active"}`, string(last.Detail))

	got, err = b.client.SetConnectionSettings(ctx, "acme", c.ID, map[string]string{"from_email": ""})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"subdomain": "newco"}, got.Settings, "an optional setting is cleared")

	_, err = b.client.SetConnectionSettings(ctx, "acme", "conn_missing", map[string]string{"subdomain": "x"})
	var ce *api.ClientError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, http.StatusNotFound, ce.Status)
}
