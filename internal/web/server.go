package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/accordhq/accord/internal/telemetry"
)

// Check is one readiness probe: a name and a function that fails when the
// dependency is unreachable.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Config is what NewHandler assembles.
type Config struct {
	Logger   *slog.Logger
	Registry *prometheus.Registry
	// Ready lists the dependencies /readyz probes (database, queue).
	Ready []Check
	// ReadyTimeout bounds each probe; default 2s.
	ReadyTimeout time.Duration
	// Routes are extra ServeMux patterns ("POST /hooks/{connection_id}").
	Routes map[string]http.Handler
	// TracerProvider records request spans; nil takes the global one
	// (a no-op unless OTEL_* variables configure an exporter).
	TracerProvider trace.TracerProvider
}

// NewHandler returns the process's root handler.
func NewHandler(cfg *Config) http.Handler {
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 2 * time.Second
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", readyz(cfg))
	mux.Handle("GET /metrics", telemetry.MetricsHandler(cfg.Registry))
	for pattern, h := range cfg.Routes {
		mux.Handle(pattern, h)
	}
	hm := telemetry.NewHTTPMetrics(cfg.Registry)
	// Tracing outermost (it extracts traceparent), then the request id so
	// recovery and access logs carry it; metrics directly around the mux
	// so it sees the matched pattern. With no exporter configured the
	// tracer is a no-op.
	opts := []otelhttp.Option{
		otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/healthz" && r.URL.Path != "/metrics" }),
		// W3C trace context whatever the global setting: a caller's
		// traceparent always joins its trace.
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})),
	}
	if cfg.TracerProvider != nil {
		opts = append(opts, otelhttp.WithTracerProvider(cfg.TracerProvider))
	}
	return otelhttp.NewHandler(
		telemetry.RequestIDMiddleware(recoverer(cfg.Logger, accessLog(cfg.Logger, hm.Middleware(mux)))),
		"accord.http", opts...)
}

func readyz(cfg *Config) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusOK
		out := map[string]string{}
		for _, c := range cfg.Ready {
			ctx, cancel := context.WithTimeout(r.Context(), cfg.ReadyTimeout)
			err := c.Fn(ctx)
			cancel()
			if err != nil {
				status = http.StatusServiceUnavailable
				out[c.Name] = "unavailable"
				cfg.Logger.WarnContext(r.Context(), "readiness check failed", "check", c.Name, "err", err)
				continue
			}
			out[c.Name] = "ok"
		}
		writeJSON(w, status, out)
	}
}

func recoverer(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.ErrorContext(r.Context(), "panic serving request", "route", r.Pattern, "panic", v)
				writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error", "request_id": telemetry.RequestID(r.Context())})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func accessLog(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		level := slog.LevelDebug
		if sw.status >= 500 {
			level = slog.LevelWarn
		}
		// The path, never the query: query strings can carry codes and tokens.
		logger.Log(r.Context(), level, "http request", "method", r.Method, "path", r.URL.Path,
			"status", sw.status, "duration_ms", float64(time.Since(start).Microseconds())/1000)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// WriteJSON writes v as JSON with status; exported for handlers in the
// packages this one mounts.
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
