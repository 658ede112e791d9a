package connection_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEditSettingsAuditsNamesNotValues: a settings change is stored, its
// audit entry names the settings that changed (never their values), the
// caches are told, and setting the same values again is no change.
func TestEditSettingsAuditsNamesNotValues(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		c, changed, err := b.l.EditSettings(ctx, "t1", "conn_1", "admin api", set(map[string]string{"subdomain": "newco", "from_email": "ops@example.com"}))
		require.NoError(t, err)
		require.True(t, changed)
		require.Equal(t, map[string]string{"subdomain": "newco", "from_email": "ops@example.com"}, c.Settings)
		require.Equal(t, c.Settings, (<-b.changes).Settings, "OnChange sees the new settings")
		e, d := lastAudit(t, b.st)
		require.Equal(t, "connection.settings_changed", e.Action)
		require.Equal(t, "admin api", e.Actor)
		require.Equal(t, []any{"from_email", "subdomain"}, d["settings"])
		require.NotContains(t, string(e.Detail), "ops@example.com")

		_, changed, err = b.l.EditSettings(ctx, "t1", "conn_1", "admin api", set(map[string]string{"subdomain": "newco", "from_email": "ops@example.com"}))
		require.NoError(t, err)
		require.False(t, changed)

		c, changed, err = b.l.EditSettings(ctx, "t1", "conn_1", "admin api", set(map[string]string{"subdomain": "newco"}))
		require.NoError(t, err)
		require.True(t, changed)
		require.Equal(t, map[string]string{"subdomain": "newco"}, c.Settings)
		_, d = lastAudit(t, b.st)
		require.Equal(t, []any{"from_email"}, d["settings"])
		stored, err := b.st.GetConnection(ctx, "t1", "conn_1")
		require.NoError(t, err)
		require.Equal(t, map[string]string{"subdomain": "newco"}, stored.Settings)

		refused := errors.New("subdomain must be one DNS label")
		_, _, err = b.l.EditSettings(ctx, "t1", "conn_1", "admin api", func(map[string]string) (map[string]string, error) {
			return nil, refused
		})
		require.ErrorIs(t, err, refused)
		stored, err = b.st.GetConnection(ctx, "t1", "conn_1")
		require.NoError(t, err)
		require.Equal(t, map[string]string{"subdomain": "newco"}, stored.Settings, "a refused edit changes nothing")
	})
}

func set(s map[string]string) func(map[string]string) (map[string]string, error) {
	return func(map[string]string) (map[string]string, error) { return s, nil }
}
