package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUIFrameAncestors(t *testing.T) {
	t.Parallel()
	cfg, err := load(t, "ui_frame_ancestors: https://app.example.com  https://admin.example.com:8443\n", nil)
	require.NoError(t, err)
	require.Equal(t, []string{"https://app.example.com", "https://admin.example.com:8443"}, cfg.FrameAncestors())

	cfg, err = load(t, "", map[string]string{"ACCORD_UI_FRAME_ANCESTORS": "http://localhost:3000"})
	require.NoError(t, err)
	require.Equal(t, []string{"http://localhost:3000"}, cfg.FrameAncestors())

	cfg, err = load(t, "", nil)
	require.NoError(t, err)
	require.Empty(t, cfg.FrameAncestors(), "default: no page may be framed")

	for _, bad := range []string{"*", "app.example.com", "https://a.example; script-src *", "'self'"} {
		_, err := load(t, "", nil, "--ui-frame-ancestors", bad)
		require.ErrorIs(t, err, ErrInvalid, bad)
	}
}
