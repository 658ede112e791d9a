package connector

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

// TestRedirectIsNotFollowed: a partner answering 3xx must not make Accord
// hand the credential to wherever Location points.
func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	cases := map[string]Authorizer{
		"api key header": apiKey(),
		"api key query":  APIKey{QueryParam: "api_key", Key: testSecret},
		"bearer":         Bearer{Token: testSecret},
		"basic":          Basic{Username: "bot", Password: testSecret},
	}
	for name, auth := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var elsewhere atomic.Int32
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				elsewhere.Add(1)
				w.WriteHeader(http.StatusOK)
			}))
			t.Cleanup(other.Close)
			for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
				b := setup(t, func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, other.URL+"/steal", status)
				}, func(p *spec.Provider, _ *Config) {
					p.Auth.Test = &spec.Endpoint{Method: "GET", Path: "/v1/me"}
				})
				_, err := b.conn.Create(context.Background(), Call{Object: "incident", Doc: map[string]any{"title": "x"}, Auth: auth})
				var pe *PartnerError
				require.ErrorAs(t, err, &pe)
				require.Equal(t, status, pe.Status)
				require.Equal(t, spec.ClassValidation, pe.Class, "a moved API is a manifest to fix, not a retry")
				require.Contains(t, pe.Message, other.URL+"/steal", "the error names the Location")
				require.NotContains(t, err.Error(), testSecret)

				err = b.conn.TestConnection(context.Background(), auth)
				require.ErrorAs(t, err, &pe)
				require.Equal(t, status, pe.Status)
				require.Len(t, b.requests(), 2)
			}
			require.Zero(t, elsewhere.Load(), "the second server saw no request, so no credential")
		})
	}
}

func TestHTTPClientFollowsNoRedirectAndGuardsDials(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(first.Close)

	resp, err := NewHTTPClient(&Config{AllowLoopback: true}).Post(first.URL, "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusTemporaryRedirect, resp.StatusCode, "the 3xx is the answer")
	require.Zero(t, elsewhere.Load())

	_, err = NewHTTPClient(nil).Get(first.URL)
	require.ErrorIs(t, err, ErrOutboundRefused, "loopback is refused by default")
}

func TestOutboundRefusedIsAPermanentPolicyError(t *testing.T) {
	t.Parallel()

	t.Run("loopback names the setting", func(t *testing.T) {
		t.Parallel()
		b := setup(t, reply(http.StatusOK, `{}`), func(p *spec.Provider, c *Config) {
			c.AllowLoopback = false
			p.Auth.Test = &spec.Endpoint{Method: "GET", Path: "/v1/me"}
		})
		for _, err := range []error{
			func() error {
				_, err := b.conn.Create(context.Background(), Call{Object: "incident", Doc: map[string]any{}, Auth: apiKey()})
				return err
			}(),
			b.conn.TestConnection(context.Background(), apiKey()),
		} {
			require.ErrorIs(t, err, ErrOutboundRefused)
			require.ErrorIs(t, err, ErrAddressBlocked)
			var pe *PartnerError
			require.ErrorAs(t, err, &pe)
			require.True(t, pe.Policy)
			require.Equal(t, spec.ClassValidation, pe.Class, "the engine files it, it does not retry")
			require.False(t, IsRetryable(err))
			require.Contains(t, pe.Message, "allow_loopback_partners")
			require.NotContains(t, err.Error(), testSecret)
		}
		require.Empty(t, b.requests())
	})

	t.Run("private networks are never allowed", func(t *testing.T) {
		t.Parallel()
		c, err := New(testProvider("http://10.0.0.1:9"), &Config{AllowLoopback: true})
		require.NoError(t, err)
		_, err = c.Get(context.Background(), Call{Object: "incident", ID: "1"})
		require.ErrorIs(t, err, ErrOutboundRefused)
		var pe *PartnerError
		require.ErrorAs(t, err, &pe)
		require.True(t, pe.Policy)
		require.Contains(t, pe.Message, "private network")
		require.NotContains(t, pe.Message, "allow_loopback_partners")
	})
}

func TestExpandPathRejectsDotSegments(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"", ".", ".."} {
		_, err := expandPath("/recs/{id}", id, "", nil)
		require.ErrorIs(t, err, ErrBadPathSegment, "id %q", id)
		_, err = expandPath("/recs/{rec}/notes", "", "", map[string]any{"rec": id})
		require.ErrorIs(t, err, ErrBadPathSegment, "field %q", id)
	}
	// After the '?' a dot is an ordinary value.
	got, err := expandPath("/recs?q={external_id}", "", "..", nil)
	require.NoError(t, err)
	require.Equal(t, "/recs?q=..", got)

	for id, want := range map[string]string{
		"...":     "/recs/...",
		"a/b":     "/recs/a%2Fb",
		"a?b#c":   "/recs/a%3Fb%23c",
		"100%":    "/recs/100%25",
		"../x":    "/recs/..%2Fx",
		".hidden": "/recs/.hidden",
	} {
		got, err := expandPath("/recs/{id}", id, "", nil)
		require.NoError(t, err)
		require.Equal(t, want, got, "id %q", id)
	}
}

func TestDotDotIDSendsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(http.StatusOK, `{}`))
	_, err := b.conn.Update(context.Background(), Call{Object: "incident", ID: "..", Doc: map[string]any{"title": "x"}})
	require.ErrorIs(t, err, ErrBadPathSegment)
	require.Empty(t, b.requests())
}

type refusedAuthorizer struct{}

func (refusedAuthorizer) Authorize(context.Context, *http.Request) error {
	return fmt.Errorf("refreshing token: %w", &AddressBlockedError{Addr: netip.MustParseAddr("127.0.0.1"), Reason: reasonLoopback})
}

// TestCredentialRefusedByPolicy: an OAuth refresh whose token endpoint the
// policy refused is as permanent as a refused write.
func TestCredentialRefusedByPolicy(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(http.StatusOK, `{}`))
	_, err := b.conn.Create(context.Background(), Call{Object: "incident", Doc: map[string]any{}, Auth: refusedAuthorizer{}})
	require.ErrorIs(t, err, ErrOutboundRefused)
	var pe *PartnerError
	require.ErrorAs(t, err, &pe)
	require.True(t, pe.Policy)
	require.Equal(t, spec.ClassValidation, pe.Class)
	require.Contains(t, pe.Message, "allow_loopback_partners")
	require.Empty(t, b.requests())
}
