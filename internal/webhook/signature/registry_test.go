package signature_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/webhook/signature"
)

func TestRegistry(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"github", "hmac", "hubspot", "intercom", "shopify", "slack", "standard-webhooks", "stripe", "zendesk"}, signature.Names())

	_, err := signature.New("carrier-pigeon", signature.Options{})
	require.ErrorIs(t, err, signature.ErrUnknownScheme)

	require.Panics(t, func() {
		signature.Register("stripe", func(signature.Options) (signature.Scheme, error) { return nil, nil })
	})

	// A clone takes extra schemes without leaking them into the default.
	r := signature.Default().Clone()
	require.NoError(t, r.Register("always", func(signature.Options) (signature.Scheme, error) { return always{}, nil }))
	require.Error(t, r.Register("always", func(signature.Options) (signature.Scheme, error) { return always{}, nil }))
	require.Contains(t, r.Names(), "always")
	require.NotContains(t, signature.Names(), "always")
	s, err := r.New("always", signature.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Verify(&signature.Request{}, nil, time.Now()))
}

type always struct{}

func (always) Verify(*signature.Request, [][]byte, time.Time) error { return nil }
func (always) Sign([]byte, []byte, time.Time, string) (http.Header, error) {
	return http.Header{}, nil
}
