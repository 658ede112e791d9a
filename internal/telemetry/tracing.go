package telemetry

import (
	"context"
	"fmt"
	"os"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
)

// TracingEnabled reports whether the standard OTEL_* variables ask for a
// trace exporter. Tracing is off by default: nothing is exported and no
// connection is attempted unless an operator opts in.
func TracingEnabled(lookup func(string) (string, bool)) bool {
	if v, ok := lookup("OTEL_SDK_DISABLED"); ok && v == "true" {
		return false
	}
	if v, ok := lookup("OTEL_TRACES_EXPORTER"); ok && v != "" && v != "none" {
		return true
	}
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		if v, ok := lookup(k); ok && v != "" {
			return true
		}
	}
	return false
}

// SetupTracing installs the global tracer provider and W3C propagators.
// With tracing off it installs only the propagators (so traceparent still
// flows) and returns a no-op shutdown.
func SetupTracing(ctx context.Context, b Build) (shutdown func(context.Context) error, err error) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	if !TracingEnabled(os.LookupEnv) {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: creating exporter: %w", err)
	}
	res, err := sdkresource.Merge(sdkresource.Default(), sdkresource.NewSchemaless(
		semconv.ServiceName("accord"), semconv.ServiceVersion(b.Version)))
	if err != nil {
		res = sdkresource.Default()
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}
