package connector

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

const testSecret = "s3cr3t-key-9f8e7d"

// testNow is the injected clock: Retry-After dates are relative to it.
var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// seen is one request as the fake partner received it.
type seen struct {
	Method   string
	Host     string
	Path     string // decoded
	RawPath  string // as sent
	RawQuery string
	Header   http.Header
	Body     map[string]any
	RawBody  string
}

type bundle struct {
	srv  *httptest.Server
	conn *Connector
	reg  *prometheus.Registry

	mu   sync.Mutex
	reqs []seen
}

func (b *bundle) requests() []seen {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]seen(nil), b.reqs...)
}

func (b *bundle) last(t *testing.T) seen {
	t.Helper()
	r := b.requests()
	require.NotEmpty(t, r, "the partner received no request")
	return r[len(r)-1]
}

// setup starts a fake partner answering with h and a connector for
// testProvider pointed at it.
func setup(t *testing.T, h http.HandlerFunc, mutate ...func(*spec.Provider, *Config)) *bundle {
	t.Helper()
	b := &bundle{reg: prometheus.NewRegistry()}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		s := seen{Method: r.Method, Host: r.Host, Path: r.URL.Path, RawPath: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), RawBody: string(raw)}
		if len(raw) > 0 {
			_ = json.Unmarshal(raw, &s.Body)
		}
		b.mu.Lock()
		b.reqs = append(b.reqs, s)
		b.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(b.srv.Close)
	p := testProvider(b.srv.URL)
	cfg := &Config{AllowLoopback: true, Registerer: b.reg, Now: func() time.Time { return testNow }}
	for _, m := range mutate {
		m(p, cfg)
	}
	conn, err := New(p, cfg)
	require.NoError(t, err)
	t.Cleanup(conn.Close)
	b.conn = conn
	return b
}

// reply writes a JSON answer.
func reply(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// testProvider is shaped like the support-escalation pack's incident tool
// and chat partner.
func testProvider(baseURL string) *spec.Provider {
	return &spec.Provider{
		Accord:  spec.ProviderFormat,
		Name:    "incidents",
		BaseURL: baseURL + "/api",
		APIVersion: &spec.APIVersion{
			Version: "2024-06-01", Header: "X-Api-Version", DeprecationHeader: "Sunset",
		},
		Auth:      spec.Auth{Kind: spec.AuthAPIKey, Header: "Authorization", Prefix: "Token "},
		RateLimit: &spec.RateLimit{RequestsPerSecond: 10, Burst: 4},
		Pagination: &spec.Pagination{
			Style: spec.PageCursor, Param: "cursor", LimitParam: "limit", Limit: 2, Next: "meta.next_cursor",
		},
		Errors: &spec.Errors{
			Message: "error.detail",
			Rules: []spec.ErrorRule{
				{Status: spec.StatusList{{Lo: 400, Hi: 400}}, BodyContains: "too_many_requests", Class: spec.ClassRateLimited},
				{Status: spec.StatusList{{Lo: 409, Hi: 409}}, Class: spec.ClassTransient},
			},
		},
		Objects: map[string]*spec.Object{
			"incident": {
				Name: "incident",
				Fields: map[string]*spec.Field{
					"title": {Type: spec.TypeString}, "severity": {Type: spec.TypeString},
				},
				Endpoints: spec.Endpoints{
					Create:           &spec.Endpoint{Method: "POST", Path: "/v1/incidents", Body: "incident", Item: "incident", IDPath: "incident.id", IdempotencyHeader: "Idempotency-Key"},
					Update:           &spec.Endpoint{Method: "PATCH", Path: "/v1/incidents/{id}", Body: "incident", Item: "incident"},
					Get:              &spec.Endpoint{Method: "GET", Path: "/v1/incidents/{id}", Item: "incident"},
					Delete:           &spec.Endpoint{Method: "DELETE", Path: "/v1/incidents/{id}"},
					FindByExternalID: &spec.Endpoint{Method: "GET", Path: "/v1/incidents?external_id={external_id}", Items: "incidents"},
					List:             &spec.Endpoint{Method: "GET", Path: "/v1/incidents", Items: "incidents"},
				},
			},
			"message": {
				Name:   "message",
				ID:     "ts",
				Fields: map[string]*spec.Field{"channel": {Type: spec.TypeString}, "text": {Type: spec.TypeString}},
				Endpoints: spec.Endpoints{
					Create: &spec.Endpoint{Method: "POST", Path: "/v1/channels/{channel}/messages"},
					List:   &spec.Endpoint{Method: "GET", Path: "/v1/channels/{channel}/messages", Items: "messages"},
				},
			},
		},
	}
}

// counterValue reads a counter without pulling in prometheus/testutil.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	require.NoError(t, c.Write(&m))
	return m.GetCounter().GetValue()
}

func apiKey() Authorizer { return APIKey{Header: "Authorization", Prefix: "Token ", Key: testSecret} }

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
