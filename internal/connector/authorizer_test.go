package connector

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

func TestAuthorizerFor(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		auth   spec.Auth
		secret string
		header string // Authorization unless set
		want   string
		query  string
	}{
		{name: "api key default header", auth: spec.Auth{Kind: spec.AuthAPIKey}, secret: "k1", want: "k1"},
		{name: "api key custom header and prefix", auth: spec.Auth{Kind: spec.AuthAPIKey, Header: "X-Api-Key", Prefix: "Key "}, secret: "k1", header: "X-Api-Key", want: "Key k1"},
		{name: "api key in query", auth: spec.Auth{Kind: spec.AuthAPIKey, QueryParam: "token"}, secret: "k 1", query: "a=1&token=k+1"},
		{name: "bearer", auth: spec.Auth{Kind: spec.AuthBearer}, secret: "t1", want: "Bearer t1"},
		{name: "basic user and password", auth: spec.Auth{Kind: spec.AuthBasic}, secret: "bot:pw", want: "Basic Ym90OnB3"},
		{name: "basic key as user", auth: spec.Auth{Kind: spec.AuthBasic}, secret: "sk_live", want: "Basic c2tfbGl2ZTo="},
		{name: "oauth access token", auth: spec.Auth{Kind: spec.AuthOAuth2Code}, secret: "at", want: "Bearer at"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := AuthorizerFor(&spec.Provider{Auth: tc.auth}, tc.secret)
			req, err := http.NewRequest("GET", "https://partner.example/v1/x?a=1", nil)
			require.NoError(t, err)
			require.NoError(t, a.Authorize(context.Background(), req))
			h := tc.header
			if h == "" {
				h = "Authorization"
			}
			require.Equal(t, tc.want, req.Header.Get(h))
			if tc.query != "" {
				require.Equal(t, tc.query, req.URL.RawQuery)
			}
		})
	}
}

func TestCredentialSnapshot(t *testing.T) {
	t.Parallel()
	req, err := http.NewRequest("GET", "https://partner.example/v1/x?page=2", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/json")
	before := snapshot(req)
	require.NoError(t, Basic{Username: "bot", Password: "hunter22"}.Authorize(context.Background(), req))
	got := before.added(req)
	require.Contains(t, got, "hunter22", "the password inside the base64")
	require.Contains(t, got, "bot:hunter22")
	require.NotContains(t, got, "application/json", "headers set before Authorize are not secrets")
	require.NotContains(t, got, "2")
}
