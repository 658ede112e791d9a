// Package telemetry sets up the three signals of an Accord process: log/slog
// logs (JSON by default) that carry the request id of the request they belong
// to, Prometheus metrics (Go runtime, build info, HTTP request histograms and
// the engine's own), and OpenTelemetry tracing (off unless the standard
// OTEL_* variables ask for an exporter).
package telemetry
