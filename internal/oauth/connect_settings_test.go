package oauth_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// TestConnectSessionCarriesSettings: settings given when the connect link
// is made are checked then, travel signed through the sign-in, and are
// stored on the connection it creates; a bad or missing one refuses the
// link, naming the setting.
func TestConnectSessionCarriesSettings(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		for _, tc := range []struct {
			settings map[string]string
			want     string
		}{
			{nil, "zen needs subdomain (Your subdomain, the acme in acme.zen.example)"},
			{map[string]string{"subdomain": "evil.example.com"}, "subdomain must be one DNS label"},
			{map[string]string{"subdomain": "acme", "host": "x"}, `zen has no connection setting "host"`},
		} {
			_, err := b.m.CreateConnectSessionWith(ctx, tenantID, "zen", "", 5*time.Minute, tc.settings)
			require.ErrorIs(t, err, spec.ErrBadSetting)
			require.ErrorContains(t, err, tc.want)
		}
		_, err := b.m.CreateConnectSessionWith(ctx, tenantID, "web", "", 5*time.Minute, map[string]string{"subdomain": "acme"})
		require.ErrorIs(t, err, spec.ErrBadSetting, "a provider without settings takes none")

		s, err := b.m.CreateConnectSessionWith(ctx, tenantID, "zen", "", 5*time.Minute, map[string]string{"subdomain": "Acme"})
		require.NoError(t, err)
		status, body, _ := get(t, b.browser(t, false), s.URL)
		require.Equal(t, http.StatusOK, status, body)
		conns, err := b.st.ListConnections(ctx, tenantID)
		require.NoError(t, err)
		require.Len(t, conns, 1)
		require.Equal(t, "zen", conns[0].Provider)
		require.Equal(t, store.ConnectionActive, conns[0].State)
		require.Equal(t, map[string]string{"subdomain": "acme"}, conns[0].Settings)
	})
}
