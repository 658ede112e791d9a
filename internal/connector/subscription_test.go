package connector

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

func withRegistration(secret string) func(*spec.Provider, *Config) {
	return func(p *spec.Provider, _ *Config) {
		reg := &spec.Registration{
			Create: &spec.Endpoint{Method: "POST", Path: "/v1/hooks", IDPath: "hook.id", IdempotencyHeader: "Idempotency-Key",
				Request: map[string]any{"target": "{url}", "types": "{events}", "signing": map[string]any{"key": "{secret}"}}},
			Delete:  &spec.Endpoint{Method: "DELETE", Path: "/v1/hooks/{id}"},
			List:    &spec.Endpoint{Method: "GET", Path: "/v1/hooks", Items: "hooks"},
			URLPath: "target", Secret: secret,
		}
		if secret == spec.SecretIssued {
			reg.Create.Request = map[string]any{"target": "{url}", "types": "{events}"}
			reg.SecretPath = "hook.secret"
		}
		p.Webhooks = &spec.Webhooks{Registration: reg}
	}
}

func TestSubscribeSendsTheTemplateAndReadsTheID(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(201, `{"hook":{"id":42}}`), withRegistration(spec.SecretGenerated))
	sub, err := b.conn.Subscribe(t.Context(), SubscribeCall{URL: "https://accord.example/hooks/c1", Events: []string{"a.b", "c.d"},
		Secret: "whsec_abc", IdempotencyKey: "k1", Auth: APIKey{Key: testSecret, Header: "Authorization"}})
	require.NoError(t, err)
	require.Equal(t, "42", sub.ID)
	got := b.last(t)
	require.Equal(t, "/api/v1/hooks", got.Path)
	require.Equal(t, "k1", got.Header.Get("Idempotency-Key"))
	require.Equal(t, map[string]any{"target": "https://accord.example/hooks/c1", "types": []any{"a.b", "c.d"},
		"signing": map[string]any{"key": "whsec_abc"}}, got.Body)
}

func TestSubscribeErrorNeverShowsTheSecret(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(422, `{"error":{"detail":"secret whsec_abc is too short"}}`), withRegistration(spec.SecretGenerated))
	_, err := b.conn.Subscribe(t.Context(), SubscribeCall{URL: "https://a/hooks/c1", Secret: "whsec_abc"})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "whsec_abc")
	require.Contains(t, err.Error(), "webhook subscribe: validation (HTTP 422)")
}

func TestSubscribeIssuedSecret(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(201, `{"hook":{"id":"h1","secret":"partner-made"}}`), withRegistration(spec.SecretIssued))
	sub, err := b.conn.Subscribe(t.Context(), SubscribeCall{URL: "https://a/hooks/c1"})
	require.NoError(t, err)
	require.Equal(t, "partner-made", sub.Secret)
	require.NotContains(t, sub.String(), "partner-made")

	b = setup(t, reply(201, `{"hook":{"id":"h1"}}`), withRegistration(spec.SecretIssued))
	sub, err = b.conn.Subscribe(t.Context(), SubscribeCall{URL: "https://a/hooks/c1"})
	require.ErrorIs(t, err, ErrBadResponse)
	require.Equal(t, "h1", sub.ID, "the caller needs the id to delete a subscription it cannot verify")
}

func TestUnsubscribeAndList(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "GET":
			reply(200, `{"hooks":[{"id":"h1","target":"https://a/hooks/c1"},{"id":"h2","target":"https://a/hooks/c2"}]}`)(w, r)
		case r.URL.Path == "/api/v1/hooks/h1":
			w.WriteHeader(http.StatusNoContent)
		default:
			reply(404, `{"error":{"detail":"no such hook"}}`)(w, r)
		}
	}, withRegistration(spec.SecretGenerated))
	found, err := b.conn.FindSubscription(t.Context(), "https://a/hooks/c2", nil)
	require.NoError(t, err)
	require.Equal(t, []Subscription{{ID: "h2", URL: "https://a/hooks/c2"}}, found)
	require.NoError(t, b.conn.Unsubscribe(t.Context(), "h1", nil))
	require.ErrorIs(t, b.conn.Unsubscribe(t.Context(), "h9", nil), ErrNotFound)
}

func TestSubscribeWithoutRegistration(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(200, `{}`))
	_, err := b.conn.Subscribe(t.Context(), SubscribeCall{URL: "https://a/hooks/c1"})
	require.ErrorIs(t, err, ErrUnsupported)
}
