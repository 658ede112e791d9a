package oauth_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/oauth"
)

func TestSessionKeyFromMaster(t *testing.T) {
	t.Parallel()
	a := []byte("0123456789abcdef0123456789abcdef")
	b := []byte("fedcba9876543210fedcba9876543210")
	ka, err := oauth.SessionKeyFromMaster(a)
	require.NoError(t, err)
	ka2, err := oauth.SessionKeyFromMaster(a)
	require.NoError(t, err)
	kb, err := oauth.SessionKeyFromMaster(b)
	require.NoError(t, err)
	require.Len(t, ka, 32)
	require.Equal(t, ka, ka2, "every process derives the same key")
	require.NotEqual(t, ka, kb)
	require.NotEqual(t, a, ka, "the signing key is not the master key")
	_, err = oauth.SessionKeyFromMaster([]byte("short"))
	require.Error(t, err)
}
