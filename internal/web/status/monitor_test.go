package status_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/web/status"
)

type fixture struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	now      time.Time
	mon      *status.Monitor
}

func setup(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{reg: prometheus.NewRegistry(), now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	f.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "accord_partner_requests_total"}, []string{"provider", "operation", "outcome"})
	f.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "accord_action_duration_seconds"}, []string{"provider", "op"})
	f.reg.MustRegister(f.requests, f.duration)
	f.mon = status.NewMonitor(f.reg, &status.Config{Now: func() time.Time { return f.now }})
	return f
}

func (f *fixture) calls(provider, outcome string, n int, latency time.Duration) {
	for range n {
		f.requests.WithLabelValues(provider, "create", outcome).Inc()
		f.duration.WithLabelValues(provider, "create").Observe(latency.Seconds())
	}
}

func TestMonitorErrorsAndClearing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	require.Empty(t, f.mon.Degraded(), "one sample is no verdict")
	f.calls("incidents", "ok", 30, 100*time.Millisecond)
	f.calls("chat", "ok", 40, 50*time.Millisecond)
	f.now = f.now.Add(time.Minute)
	require.Empty(t, f.mon.Degraded(), "healthy partners")

	f.calls("incidents", "transient", 15, 100*time.Millisecond)
	f.calls("incidents", "validation", 5, 100*time.Millisecond) // the request's fault, not the partner's
	f.now = f.now.Add(time.Minute)
	d := f.mon.Degraded()
	require.Len(t, d, 1)
	require.Equal(t, "incidents", d[0].Provider)
	require.Equal(t, "errors", d[0].Reason)
	require.InDelta(t, 15.0/50, d[0].ErrorRate, 0.001)

	// Nothing new for longer than the window: it clears by itself.
	f.now = f.now.Add(6 * time.Minute)
	f.mon.Degraded()
	f.now = f.now.Add(time.Minute)
	require.Empty(t, f.mon.Degraded())
}

func TestMonitorLatency(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mon.Degraded()
	f.calls("incidents", "ok", 25, 8*time.Second)
	f.now = f.now.Add(30 * time.Second)
	d := f.mon.Degraded()
	require.Len(t, d, 1)
	require.Equal(t, "latency", d[0].Reason)
	require.Equal(t, int64(8000), d[0].LatencyMS)
}

func TestMonitorNeedsEnoughCalls(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mon.Degraded()
	f.calls("incidents", "transient", 5, time.Second)
	f.now = f.now.Add(time.Minute)
	require.Empty(t, f.mon.Degraded(), "5 failures out of 5 calls is too few to judge")
	var nilMon *status.Monitor
	require.Empty(t, nilMon.Degraded())
}
