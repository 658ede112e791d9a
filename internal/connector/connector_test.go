package connector

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

func TestCreate(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(http.StatusCreated, `{"incident":{"id":9007199254740993,"title":"Checkout down"}}`))

	doc := map[string]any{"title": "Checkout down", "severity": "high"}
	res, err := b.conn.Create(context.Background(), Call{Object: "incident", Doc: doc, IdempotencyKey: "inst1:ticket:42", Auth: apiKey()})
	require.NoError(t, err)

	// A 64-bit id beyond float64's precision survives.
	require.Equal(t, "9007199254740993", res.ID)
	require.Equal(t, http.StatusCreated, res.Status)
	require.Equal(t, "Checkout down", res.Object["title"])
	require.Empty(t, res.Deprecation)

	r := b.last(t)
	require.Equal(t, "POST", r.Method)
	require.Equal(t, "/api/v1/incidents", r.Path)
	require.Equal(t, map[string]any{"incident": map[string]any{"title": "Checkout down", "severity": "high"}}, r.Body)
	require.Equal(t, "inst1:ticket:42", r.Header.Get("Idempotency-Key"))
	require.Equal(t, "2024-06-01", r.Header.Get("X-Api-Version"))
	require.Equal(t, "Token "+testSecret, r.Header.Get("Authorization"))
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	require.Equal(t, 1.0, counterValue(t, b.conn.metrics.requests.WithLabelValues("incidents", "create", "ok")))
}

func TestGetUpdateDelete(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case "GET":
			reply(http.StatusOK, `{"incident":{"id":"inc_1","title":"Checkout down","status":"open"}}`)(w, r)
		case "PATCH", "DELETE":
			w.WriteHeader(http.StatusNoContent)
		}
	})
	ctx := context.Background()

	got, err := b.conn.Get(ctx, Call{Object: "incident", ID: "inc_1", Auth: apiKey()})
	require.NoError(t, err)
	require.Equal(t, "inc_1", got.ID)
	require.Equal(t, "open", got.Object["status"])
	require.Equal(t, "/api/v1/incidents/inc_1", b.last(t).Path)
	require.Nil(t, b.last(t).Body, "a GET carries no body")

	upd, err := b.conn.Update(ctx, Call{Object: "incident", ID: "inc_1", Doc: map[string]any{"severity": "low"}, Auth: apiKey()})
	require.NoError(t, err)
	require.Equal(t, "inc_1", upd.ID, "a 204 keeps the id we asked for")
	require.Equal(t, http.StatusNoContent, upd.Status)
	require.Equal(t, "PATCH", b.last(t).Method)
	require.Equal(t, map[string]any{"incident": map[string]any{"severity": "low"}}, b.last(t).Body)

	del, err := b.conn.Delete(ctx, Call{Object: "incident", ID: "inc_1", Auth: apiKey()})
	require.NoError(t, err)
	require.Equal(t, "inc_1", del.ID)
	require.Equal(t, "DELETE", b.last(t).Method)
}

func TestPathTemplates(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(http.StatusOK, `{"ok":true,"ts":"1712.0001","incidents":[]}`))
	ctx := context.Background()

	t.Run("field placeholder leaves the body", func(t *testing.T) {
		doc := map[string]any{"channel": "C0 ops", "text": "Incident opened"}
		res, err := b.conn.Create(ctx, Call{Object: "message", Doc: doc})
		require.NoError(t, err)
		require.Equal(t, "1712.0001", res.ID, "the object's declared id field")
		r := b.last(t)
		require.Equal(t, "/api/v1/channels/C0 ops/messages", r.Path)
		require.Equal(t, "/api/v1/channels/C0%20ops/messages", r.RawPath)
		require.Equal(t, map[string]any{"text": "Incident opened"}, r.Body, "unwrapped body without the path field")
		require.Contains(t, doc, "channel", "the caller's document is untouched")
		require.Empty(t, r.Header.Get("Idempotency-Key"), "no idempotency header declared on this endpoint")
	})

	t.Run("id cannot add path segments", func(t *testing.T) {
		_, err := b.conn.Get(ctx, Call{Object: "incident", ID: "../admin/1"})
		require.NoError(t, err)
		r := b.last(t)
		require.Equal(t, "/api/v1/incidents/..%2Fadmin%2F1", r.RawPath)
	})

	t.Run("external id cannot add query parameters", func(t *testing.T) {
		_, err := b.conn.FindByExternalID(ctx, Call{Object: "incident", ExternalID: "t-1&admin=true"})
		require.ErrorIs(t, err, ErrNotFound)
		r := b.last(t)
		require.Equal(t, "external_id=t-1%26admin%3Dtrue", r.RawQuery)
	})

	t.Run("missing value sends nothing", func(t *testing.T) {
		before := len(b.requests())
		_, err := b.conn.Create(ctx, Call{Object: "message", Doc: map[string]any{"text": "no channel"}})
		require.ErrorIs(t, err, ErrMissingParam)
		require.Contains(t, err.Error(), "{channel}")
		_, err = b.conn.Update(ctx, Call{Object: "incident", Doc: map[string]any{"title": "x"}})
		require.ErrorIs(t, err, ErrMissingParam)
		require.Len(t, b.requests(), before)
	})

	t.Run("unknown object and undeclared operation", func(t *testing.T) {
		_, err := b.conn.Create(ctx, Call{Object: "ticket"})
		require.ErrorIs(t, err, ErrUnknownObject)
		_, err = b.conn.Delete(ctx, Call{Object: "message", ID: "1"})
		require.ErrorIs(t, err, ErrUnsupported)
	})
}

func TestFindByExternalID(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("external_id") == "ticket-42" {
			reply(http.StatusOK, `{"incidents":[{"id":"inc_7","external_id":"ticket-42"}]}`)(w, r)
			return
		}
		reply(http.StatusOK, `{"incidents":[]}`)(w, r)
	})
	ctx := context.Background()

	res, err := b.conn.FindByExternalID(ctx, Call{Object: "incident", ExternalID: "ticket-42", Auth: apiKey()})
	require.NoError(t, err)
	require.Equal(t, "inc_7", res.ID)
	require.Equal(t, "ticket-42", res.Object["external_id"])

	_, err = b.conn.FindByExternalID(ctx, Call{Object: "incident", ExternalID: "ticket-43", Auth: apiKey()})
	require.ErrorIs(t, err, ErrNotFound)
	require.False(t, IsRetryable(err))
}

func TestNotFoundOnUpdateMatchesErrNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(http.StatusNotFound, `{"error":{"detail":"incident inc_1 was deleted"}}`))
	_, err := b.conn.Update(context.Background(), Call{Object: "incident", ID: "inc_1", Doc: map[string]any{}})
	require.ErrorIs(t, err, ErrNotFound)
	var pe *PartnerError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, spec.ClassNotFound, pe.Class)
	require.Equal(t, "incident inc_1 was deleted", pe.Message)
}

func TestDeprecationHeader(t *testing.T) {
	t.Parallel()
	const sunset = "Sat, 31 Jan 2026 00:00:00 GMT"
	b := setup(t, reply(http.StatusOK, `{"incident":{"id":"inc_1"}}`, "Sunset", sunset))
	ctx := context.Background()
	for range 2 {
		res, err := b.conn.Get(ctx, Call{Object: "incident", ID: "inc_1"})
		require.NoError(t, err)
		require.Equal(t, sunset, res.Deprecation)
	}
	require.Equal(t, 2.0, counterValue(t, b.conn.metrics.deprecation.WithLabelValues("incidents")))
}

func TestDeprecationStandardHeaderWhenManifestNamesNone(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(http.StatusOK, `{"incident":{"id":"inc_1"}}`, "Deprecation", "@1767225600"),
		func(p *spec.Provider, _ *Config) { p.APIVersion = nil })
	res, err := b.conn.Get(context.Background(), Call{Object: "incident", ID: "inc_1"})
	require.NoError(t, err)
	require.Equal(t, "@1767225600", res.Deprecation)
	require.Empty(t, b.last(t).Header.Get("X-Api-Version"), "no version pinned, none sent")
}

func TestResponseTooLarge(t *testing.T) {
	t.Parallel()
	big := `{"incident":{"id":"inc_1","notes":"` + strings.Repeat("x", 4096) + `"}}`
	b := setup(t, reply(http.StatusOK, big), func(_ *spec.Provider, c *Config) { c.MaxResponseBytes = 1024 })
	_, err := b.conn.Get(context.Background(), Call{Object: "incident", ID: "inc_1"})
	require.ErrorIs(t, err, ErrResponseTooLarge)
	require.False(t, IsRetryable(err))
}

func TestNonJSONSuccessIsNoDocument(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok"))
	})
	res, err := b.conn.Create(context.Background(), Call{Object: "message", Doc: map[string]any{"channel": "C1", "text": "hi"}})
	require.NoError(t, err)
	require.Empty(t, res.ID)
	require.Nil(t, res.Object)
	require.Equal(t, http.StatusOK, res.Status)
}

func TestBrokenJSONSuccess(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(http.StatusOK, `{"incident":`))
	_, err := b.conn.Get(context.Background(), Call{Object: "incident", ID: "inc_1"})
	require.ErrorIs(t, err, ErrBadResponse)
}

// refresher is an OAuth-like Authorizer whose token the partner accepts
// only after one refresh.
type refresher struct {
	token string
	fail  error
}

func (r *refresher) Authorize(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+r.token)
	return nil
}

func (r *refresher) Refresh(context.Context) error {
	if r.fail != nil {
		return r.fail
	}
	r.token = "fresh-token"
	return nil
}

func TestRefreshOnceOn401(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer fresh-token" {
			reply(http.StatusUnauthorized, `{"error":{"detail":"token expired"}}`)(w, r)
			return
		}
		reply(http.StatusCreated, `{"incident":{"id":"inc_2"}}`)(w, r)
	})
	ctx := context.Background()

	res, err := b.conn.Create(ctx, Call{Object: "incident", Doc: map[string]any{"title": "t"}, IdempotencyKey: "k1", Auth: &refresher{token: "stale-token"}})
	require.NoError(t, err)
	require.Equal(t, "inc_2", res.ID)
	reqs := b.requests()
	require.Len(t, reqs, 2)
	require.Equal(t, reqs[0].Body, reqs[1].Body, "the retry sends the same body")

	revoked := errors.New("refresh token revoked")
	_, err = b.conn.Create(ctx, Call{Object: "incident", Doc: map[string]any{}, Auth: &refresher{token: "stale-token", fail: revoked}})
	require.ErrorIs(t, err, revoked)
	var pe *PartnerError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, spec.ClassAuth, pe.Class)
	require.Len(t, b.requests(), 3, "no retry when the refresh failed")

	// A static key gets no second attempt.
	_, err = b.conn.Create(ctx, Call{Object: "incident", Doc: map[string]any{}, Auth: apiKey()})
	require.ErrorAs(t, err, &pe)
	require.Len(t, b.requests(), 4)
}

func TestTestConnection(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Token "+testSecret {
			reply(http.StatusOK, `{"user":"bot"}`)(w, r)
			return
		}
		reply(http.StatusUnauthorized, `{}`)(w, r)
	}, func(p *spec.Provider, _ *Config) {
		p.Auth.Test = &spec.Endpoint{Method: "GET", Path: "/v1/me"}
	})
	ctx := context.Background()
	require.NoError(t, b.conn.TestConnection(ctx, apiKey()))
	require.Equal(t, "/api/v1/me", b.last(t).Path)
	err := b.conn.TestConnection(ctx, APIKey{Prefix: "Token ", Key: "wrong"})
	var pe *PartnerError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, spec.ClassAuth, pe.Class)
}

func TestNewBaseURL(t *testing.T) {
	t.Parallel()
	env := map[string]string{"INCIDENTS_URL": "https://incidents.example.com/api/"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	p := testProvider("")
	p.BaseURL = "${INCIDENTS_URL}"
	c, err := New(p, &Config{LookupEnv: lookup})
	require.NoError(t, err)
	u, err := c.url("x", "/v1/incidents?sort=updated", map[string][]string{"limit": {"5"}})
	require.NoError(t, err)
	require.Equal(t, "https://incidents.example.com/api/v1/incidents?limit=5&sort=updated", u.String())

	p.BaseURL = "${MISSING_URL}"
	_, err = New(p, &Config{LookupEnv: lookup})
	require.ErrorIs(t, err, ErrBadBaseURL)

	p.BaseURL = "ftp://files.example.com"
	_, err = New(p, nil)
	require.ErrorIs(t, err, ErrBadBaseURL)
}

func TestMetricsSharedAcrossConnectors(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(http.StatusOK, `{}`))
	p := testProvider("https://chat.example.com")
	p.Name = "chat"
	_, err := New(p, &Config{Registerer: b.reg})
	require.NoError(t, err, "a second provider on the same registry reuses the collectors")
}

func TestFindByExternalIDSingleObject(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/incidents/by-ref/ticket-42" {
			reply(http.StatusOK, `{"incident":{"id":"inc_7"}}`)(w, r)
			return
		}
		reply(http.StatusNotFound, `{"error":{"detail":"no incident"}}`)(w, r)
	}, func(p *spec.Provider, _ *Config) {
		p.Objects["incident"].Endpoints.FindByExternalID = &spec.Endpoint{Method: "GET", Path: "/v1/incidents/by-ref/{external_id}", Item: "incident"}
	})
	res, err := b.conn.FindByExternalID(context.Background(), Call{Object: "incident", ExternalID: "ticket-42"})
	require.NoError(t, err)
	require.Equal(t, "inc_7", res.ID)
	_, err = b.conn.FindByExternalID(context.Background(), Call{Object: "incident", ExternalID: "ticket-43"})
	require.ErrorIs(t, err, ErrNotFound, "a 404 is not found too")
}

func TestConnectorLimiterUsesConfigClock(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(http.StatusOK, `{}`))
	lim := b.conn.Limiter()
	for range 4 {
		require.Zero(t, lim.Reserve("acme", ""), "the manifest's burst of 4")
	}
	require.Equal(t, 100*time.Millisecond, lim.Reserve("acme", "job"), "10/s, on the frozen test clock")
	require.Equal(t, "incidents", b.conn.Provider().Name)
}
