package connector

import (
	"context"
	"net/http"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

func TestDialGuardCheck(t *testing.T) {
	t.Parallel()
	cases := []struct {
		addr          string
		strict        bool // refused with no allowances
		loopbackOK    bool // allowed with AllowLoopback
		privateOK     bool // allowed with AllowPrivate
		alwaysRefused bool
	}{
		{addr: "93.184.216.34"},
		{addr: "2606:2800:220:1:248:1893:25c8:1946"},
		{addr: "127.0.0.1", strict: true, loopbackOK: true},
		{addr: "127.9.9.9", strict: true, loopbackOK: true},
		{addr: "::1", strict: true, loopbackOK: true},
		{addr: "::ffff:127.0.0.1", strict: true, loopbackOK: true},
		{addr: "0.0.0.0", strict: true, loopbackOK: true},
		{addr: "10.0.0.1", strict: true, privateOK: true},
		{addr: "172.16.5.4", strict: true, privateOK: true},
		{addr: "192.168.1.1", strict: true, privateOK: true},
		{addr: "100.64.0.1", strict: true, privateOK: true},
		{addr: "fd00::1", strict: true, privateOK: true},
		{addr: "::ffff:10.0.0.1", strict: true, privateOK: true},
		{addr: "169.254.169.254", strict: true, alwaysRefused: true},
		{addr: "fe80::1", strict: true, alwaysRefused: true},
		{addr: "224.0.0.1", strict: true, alwaysRefused: true},
	}
	for _, tc := range cases {
		t.Run(tc.addr, func(t *testing.T) {
			t.Parallel()
			ip := netip.MustParseAddr(tc.addr)
			refused := func(g dialGuard) bool { return g.check(ip) != nil }
			require.Equal(t, tc.strict, refused(dialGuard{}))
			require.Equal(t, tc.strict && !tc.loopbackOK, refused(dialGuard{allowLoopback: true}))
			require.Equal(t, tc.strict && !tc.privateOK, refused(dialGuard{allowPrivate: true}))
			if tc.alwaysRefused {
				require.True(t, refused(dialGuard{allowLoopback: true, allowPrivate: true}))
			}
		})
	}
}

func TestDialGuardRefusesBeforeSending(t *testing.T) {
	t.Parallel()

	t.Run("loopback partner gets no request", func(t *testing.T) {
		t.Parallel()
		b := setup(t, reply(200, `{"incident":{"id":"1"}}`), func(_ *spec.Provider, c *Config) { c.AllowLoopback = false })
		_, err := b.conn.Create(context.Background(), Call{Object: "incident", Doc: map[string]any{"title": "x"}, Auth: apiKey()})
		require.ErrorIs(t, err, ErrAddressBlocked)
		require.Contains(t, err.Error(), "refused by policy (loopback)")
		require.False(t, IsRetryable(err), "policy does not change by waiting")
		require.Empty(t, b.requests())
	})

	for _, base := range []string{"http://10.0.0.1:9", "http://169.254.169.254", "http://[::1]:9", "http://localhost:9"} {
		t.Run(base, func(t *testing.T) {
			t.Parallel()
			p := testProvider(base)
			c, err := New(p, nil)
			require.NoError(t, err)
			_, err = c.Get(context.Background(), Call{Object: "incident", ID: "1", Auth: apiKey()})
			require.ErrorIs(t, err, ErrAddressBlocked)
			require.Contains(t, err.Error(), "refused by policy")
			require.NotContains(t, err.Error(), testSecret)
		})
	}
}

func TestDialGuardAllowsLoopbackWhenConfigured(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(http.StatusOK, `{"incident":{"id":"1"}}`))
	_, err := b.conn.Get(context.Background(), Call{Object: "incident", ID: "1"})
	require.NoError(t, err)
}
