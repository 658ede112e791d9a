package telemetry

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRequestIDMiddleware(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	logger := NewLogger(&logs, "json", "info")
	h := RequestIDMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "handled")
	}))

	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"traceparent wins", map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", RequestIDHeader: "abc"}, "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"x-request-id kept", map[string]string{RequestIDHeader: "req-42"}, "req-42"},
		{"hostile id replaced", map[string]string{RequestIDHeader: "bad id\n{\"x\":1}"}, ""},
		{"generated", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := rec.Header().Get(RequestIDHeader)
			if tc.want != "" {
				require.Equal(t, tc.want, got)
			} else {
				require.Len(t, got, 32, "a generated id is 128 bits of hex")
			}
			var line map[string]any
			require.NoError(t, json.Unmarshal(logs.Bytes(), &line))
			require.Equal(t, got, line["request_id"], "every log line of the request carries its id")
		})
	}
}

func TestMetricsExposeBuildInfoAndRoutes(t *testing.T) {
	t.Parallel()
	reg := NewRegistry(Build{Version: "v1.2.3", Commit: "abc"})
	hm := NewHTTPMetrics(reg)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	mux.Handle("GET /metrics", MetricsHandler(reg))
	srv := httptest.NewServer(RequestIDMiddleware(hm.Middleware(mux)))
	t.Cleanup(srv.Close)

	for _, id := range []string{"1", "2"} {
		resp, err := http.Get(srv.URL + "/items/" + id)
		require.NoError(t, err)
		resp.Body.Close()
	}
	resp, err := http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	require.Contains(t, text, `accord_build_info{commit="abc"`)
	require.Contains(t, text, `version="v1.2.3"} 1`)
	require.Contains(t, text, `accord_http_request_duration_seconds_count{code="418",method="GET",route="GET /items/{id}"} 2`)
	require.True(t, strings.Contains(text, "go_goroutines"), "Go runtime metrics are exported")
}

func TestTracingOffByDefault(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	require.False(t, TracingEnabled(env(nil)))
	require.True(t, TracingEnabled(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})))
	require.False(t, TracingEnabled(env(map[string]string{"OTEL_TRACES_EXPORTER": "none"})))
	require.False(t, TracingEnabled(env(map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"})))
}
