package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func serve(t *testing.T, cfg *Config) *httptest.Server {
	t.Helper()
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	srv := httptest.NewServer(NewHandler(cfg))
	t.Cleanup(srv.Close)
	return srv
}

func getJSON(t *testing.T, url string) (*http.Response, map[string]string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]string
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp, out
}

func TestReadyzReportsEachDependency(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	srv := serve(t, &Config{
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		Ready: []Check{
			{Name: "database", Fn: func(context.Context) error { return nil }},
			{Name: "queue", Fn: func(context.Context) error { return errors.New("dial tcp 10.0.0.5:5432: password=hunter2 refused") }},
		},
	})
	resp, body := getJSON(t, srv.URL+"/readyz")
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, map[string]string{"database": "ok", "queue": "unavailable"}, body,
		"the probe names what is down, never the error's details")
	require.Contains(t, logs.String(), `"check":"queue"`, "the operator finds the cause in the log")

	resp, body = getJSON(t, srv.URL+"/healthz")
	require.Equal(t, http.StatusOK, resp.StatusCode, "alive even when not ready")
	require.Equal(t, "ok", body["status"])
}

func TestPanicBecomes500WithRequestID(t *testing.T) {
	t.Parallel()
	srv := serve(t, &Config{Routes: map[string]http.Handler{
		"GET /boom": http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("kaboom") }),
	}})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/boom", nil)
	req.Header.Set("X-Request-Id", "req-7")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	raw, _ := io.ReadAll(resp.Body)
	require.JSONEq(t, `{"error":"internal error","request_id":"req-7"}`, string(raw))
	require.Equal(t, "req-7", resp.Header.Get("X-Request-Id"))
}

func TestMetricsServed(t *testing.T) {
	t.Parallel()
	srv := serve(t, &Config{})
	resp, err := http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestRequestsAreTracedUnderTheCallersTrace(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	srv := serve(t, &Config{TracerProvider: tp, Routes: map[string]http.Handler{
		"GET /x": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }),
	}})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/x", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", resp.Header.Get("X-Request-Id"))

	spans := rec.Ended()
	require.Len(t, spans, 1)
	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", spans[0].SpanContext().TraceID().String(), "the span joins the caller's trace")

	_, _ = http.Get(srv.URL + "/healthz")
	require.Len(t, rec.Ended(), 1, "probes are not traced")
}
