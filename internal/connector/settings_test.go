package connector

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

// perTenant makes testProvider's host per tenant
// ({connection.subdomain}.partner.test) and sends a From header from a
// setting. The fake partner stays on 127.0.0.1: the test's dialer maps
// every *.partner.test name there, then dials through the connector's own
// guarded dialer.
func perTenant(t *testing.T) *bundle {
	t.Helper()
	b := setup(t, reply(200, `{"incident":{"id":"i1"}}`), func(p *spec.Provider, _ *Config) {
		port := p.BaseURL[strings.LastIndex(p.BaseURL, ":"):]
		p.BaseURL = "http://{connection.subdomain}.partner.test" + port + "/api"
		p.Settings = map[string]*spec.ConnectionSetting{
			"subdomain":  {Description: "your subdomain", Format: spec.SettingDNSLabel},
			"from_email": {Description: "a user's email", Format: spec.SettingEmail},
		}
		p.Objects["incident"].Endpoints.Create.Headers = map[string]string{"From": "{connection.from_email}"}
	})
	tr := b.conn.client.Transport.(*http.Transport)
	guarded := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		require.NoError(t, err)
		require.True(t, strings.HasSuffix(host, ".partner.test"), "dialled %s", host)
		return guarded(ctx, network, net.JoinHostPort("127.0.0.1", port))
	}
	return b
}

func TestPerTenantHostAndHeaders(t *testing.T) {
	t.Parallel()
	b := perTenant(t)
	for _, sub := range []string{"acme", "globex"} {
		auth := WithSettings(apiKey(), map[string]string{"subdomain": sub, "from_email": sub + "@example.com"})
		_, err := b.conn.Create(t.Context(), Call{Object: "incident", Doc: map[string]any{"title": "x"}, Auth: auth})
		require.NoError(t, err)
		got := b.last(t)
		require.Equal(t, sub+".partner.test", strings.Split(got.Host, ":")[0])
		require.Equal(t, sub+"@example.com", got.Header.Get("From"))
		require.Equal(t, "Token "+testSecret, got.Header.Get("Authorization"), "the settings wrapper still authorises")
	}
	// The header is the create endpoint's only.
	_, err := b.conn.Get(t.Context(), Call{Object: "incident", ID: "i1", Auth: WithSettings(apiKey(), map[string]string{"subdomain": "acme"})})
	require.NoError(t, err)
	require.Empty(t, b.last(t).Header.Get("From"))
}

func TestPerTenantHostRefusesWhatIsNotOneLabel(t *testing.T) {
	t.Parallel()
	b := perTenant(t)
	for _, sub := range []string{"", "evil.com", "evil.com#", "a/b", "127.0.0.1", "acme.partner.test:1@evil", "-acme", "ACME\n"} {
		auth := WithSettings(apiKey(), map[string]string{"subdomain": sub, "from_email": "a@example.com"})
		_, err := b.conn.Create(t.Context(), Call{Object: "incident", Doc: map[string]any{"title": "x"}, Auth: auth})
		var pe *PartnerError
		require.ErrorAs(t, err, &pe, "subdomain %q", sub)
		require.Equal(t, spec.ClassValidation, pe.Class)
		require.True(t, pe.Policy)
		require.ErrorIs(t, err, spec.ErrBadSetting)
	}
	// No settings at all (an Authorizer from before settings existed).
	_, err := b.conn.Create(t.Context(), Call{Object: "incident", Doc: map[string]any{"title": "x"}, Auth: apiKey()})
	require.ErrorIs(t, err, spec.ErrBadSetting)
	require.Empty(t, b.requests(), "nothing reached the partner")
}

func TestWithSettingsKeepsRefresher(t *testing.T) {
	t.Parallel()
	r := &countingRefresher{}
	a := WithSettings(r, map[string]string{"k": "v"})
	rf, ok := a.(Refresher)
	require.True(t, ok)
	require.NoError(t, rf.Refresh(t.Context()))
	require.Equal(t, 1, r.n)
	_, ok = WithSettings(apiKey(), nil).(Refresher)
	require.False(t, ok, "an API key must not pretend it can refresh")
	require.NoError(t, WithSettings(nil, nil).Authorize(t.Context(), &http.Request{Header: http.Header{}}))

	for _, a := range []Authorizer{WithSettings(apiKey(), map[string]string{"k": "v"}), WithSettings(Bearer{Token: testSecret}, nil)} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			require.NotContains(t, fmt.Sprintf(verb, a), testSecret, verb)
		}
	}
}

type countingRefresher struct{ n int }

func (c *countingRefresher) Authorize(context.Context, *http.Request) error { return nil }
func (c *countingRefresher) Refresh(context.Context) error                  { c.n++; return nil }

// A per-tenant host's next links: the tenant's own host (absolute) and a
// relative link are followed; another tenant's host is refused like any
// foreign origin.
func TestPerTenantHostNextLinks(t *testing.T) {
	t.Parallel()
	b := perTenant(t)
	b.conn.provider.Pagination = &spec.Pagination{Style: spec.PageLink}
	srv := b.srv.URL
	port := srv[strings.LastIndex(srv, ":"):]
	acme := WithSettings(apiKey(), map[string]string{"subdomain": "acme"})

	for _, tc := range []struct {
		cursor string
		ok     bool
	}{
		{"http://acme.partner.test" + port + "/api/v1/incidents?after=b", true},
		{"/api/v1/incidents?after=c", true},
		{"http://globex.partner.test" + port + "/api/v1/incidents?after=b", false},
		{"http://127.0.0.1" + port + "/api/v1/incidents?after=b", false},
	} {
		n := len(b.requests())
		_, err := b.conn.List(t.Context(), ListCall{Object: "incident", Cursor: tc.cursor, Auth: acme})
		if !tc.ok {
			require.ErrorIs(t, err, ErrForeignLink, tc.cursor)
			require.Len(t, b.requests(), n, "a foreign link is never fetched")
			continue
		}
		require.NoError(t, err, tc.cursor)
		require.Equal(t, "acme.partner.test", strings.Split(b.last(t).Host, ":")[0])
	}
}
