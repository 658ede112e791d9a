package connector

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

// The catalog's own manifests, driven against a fake partner on
// 127.0.0.1: what they declare is what the connector sends.

func catalogProvider(t *testing.T, name string) *spec.Provider {
	t.Helper()
	raw, err := os.ReadFile("../../packs/catalog/providers/" + name + ".yaml")
	require.NoError(t, err)
	p, diags := spec.ParseProvider(name+".yaml", raw)
	require.Empty(t, diags)
	return p
}

type captured struct {
	mu   sync.Mutex
	reqs []*http.Request
	body []string
}

func (c *captured) last(t *testing.T) (*http.Request, string) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	require.NotEmpty(t, c.reqs)
	return c.reqs[len(c.reqs)-1], c.body[len(c.body)-1]
}

func (c *captured) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.reqs)
}

// catalogConnector serves answer on 127.0.0.1 and builds a connector for
// the catalog manifest whose every host (a fixed one through env, or a
// tenant's) is dialled there.
func catalogConnector(t *testing.T, name, answer string, env map[string]string) (*Connector, *captured) {
	t.Helper()
	c := &captured{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.reqs = append(c.reqs, r)
		c.body = append(c.body, string(b))
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(answer))
	}))
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	require.NoError(t, err)
	conn, err := New(catalogProvider(t, name), &Config{AllowLoopback: true, LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return strings.ReplaceAll(v, "$SRV", srv.URL), ok
	}})
	require.NoError(t, err)
	t.Cleanup(conn.Close)
	tr := conn.client.Transport.(*http.Transport)
	guarded := tr.DialContext
	// The manifests speak https to the vendor: the fake partner is plain
	// HTTP, so the test speaks HTTP to it whatever the URL's scheme.
	tr.DialTLSContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return guarded(ctx, network, net.JoinHostPort("127.0.0.1", port))
	}
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return guarded(ctx, network, net.JoinHostPort("127.0.0.1", port))
	}
	return conn, c
}

func TestCatalogStripeCreatesCustomersAsForms(t *testing.T) {
	t.Parallel()
	conn, got := catalogConnector(t, "stripe", `{"id":"cus_1","object":"customer"}`, map[string]string{"STRIPE_URL": "$SRV"})
	res, err := conn.Create(t.Context(), Call{Object: "customer", IdempotencyKey: "accord-k1",
		Auth: APIKey{Header: "Authorization", Prefix: "Bearer ", Key: "rk_test_1"},
		Doc:  map[string]any{"email": "ada@example.com", "name": "Ada", "metadata": map[string]any{"accord_id": "T-1"}}})
	require.NoError(t, err)
	require.Equal(t, "cus_1", res.ID)
	r, body := got.last(t)
	require.Equal(t, "/v1/customers", r.URL.Path)
	require.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
	require.Equal(t, "accord-k1", r.Header.Get("Idempotency-Key"))
	require.Equal(t, map[string]any{"email": "ada@example.com", "name": "Ada", "metadata": map[string]any{"accord_id": "T-1"}}, stripeForm(t, body))

	_, err = conn.Update(t.Context(), Call{Object: "customer", ID: "cus_1", Doc: map[string]any{"metadata": map[string]any{"plan": nil}},
		Auth: APIKey{Header: "Authorization", Prefix: "Bearer ", Key: "rk_test_1"}})
	require.NoError(t, err)
	r, body = got.last(t)
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, "/v1/customers/cus_1", r.URL.Path)
	require.Equal(t, "metadata%5Bplan%5D=", body, "null unsets a metadata key, Stripe's way")
}

func TestCatalogZendeskHostIsTheTenants(t *testing.T) {
	t.Parallel()
	conn, got := catalogConnector(t, "zendesk", `{"ticket":{"id":7}}`, nil)
	for _, sub := range []string{"acme", "globex"} {
		auth := WithSettings(Basic{Username: "agent@example.com/token", Password: "tok"}, map[string]string{"subdomain": sub})
		res, err := conn.Get(t.Context(), Call{Object: "ticket", ID: "7", Auth: auth})
		require.NoError(t, err)
		require.Equal(t, "7", res.ID)
		r, _ := got.last(t)
		require.Equal(t, sub+".zendesk.com", r.Host)
		require.Equal(t, "/api/v2/tickets/7", r.URL.Path)
	}
	_, err := conn.Get(t.Context(), Call{Object: "ticket", ID: "7",
		Auth: WithSettings(Basic{Username: "a", Password: "b"}, map[string]string{"subdomain": "evil.com/x"})})
	require.ErrorIs(t, err, spec.ErrBadSetting)
}

func TestCatalogPagerDutySendsFrom(t *testing.T) {
	t.Parallel()
	conn, got := catalogConnector(t, "pagerduty", `{"incident":{"id":"PINC1"}}`, map[string]string{"PAGERDUTY_URL": "$SRV"})
	auth := WithSettings(APIKey{Header: "Authorization", Prefix: "Token token=", Key: "k"}, map[string]string{"from_email": "oncall@example.com"})
	_, err := conn.Create(t.Context(), Call{Object: "incident", Auth: auth,
		Doc: map[string]any{"type": "incident", "title": "Checkout down", "service": map[string]any{"id": "PSVC", "type": "service_reference"}}})
	require.NoError(t, err)
	r, _ := got.last(t)
	require.Equal(t, "oncall@example.com", r.Header.Get("From"))
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))

	// Without the setting the write is refused before it is sent.
	n := got.count()
	_, err = conn.Create(t.Context(), Call{Object: "incident", Auth: APIKey{Key: "k"}, Doc: map[string]any{"title": "x"}})
	require.ErrorIs(t, err, spec.ErrBadSetting)
	require.Equal(t, n, got.count())
}
