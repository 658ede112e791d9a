package engine_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/engine"
)

// Alerter.Raise used to start a goroutine per alert: a dead alert webhook
// under an alert storm grew them without bound.
func TestAlerterIsBoundedWhenTheWebhookHangs(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	reg := prometheus.NewRegistry()
	a := engine.NewAlerter(srv.URL, slog.New(slog.DiscardHandler), reg)
	before := runtime.NumGoroutine()
	for range 5000 {
		a.Raise(context.Background(), engine.Alert{TenantID: "t", Class: engine.ClassPartnerDown})
	}
	require.Less(t, runtime.NumGoroutine()-before, 50, "goroutines do not grow with alerts")

	mfs, err := reg.Gather()
	require.NoError(t, err)
	var raised, dropped float64
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "accord_alerts_total":
				raised += m.GetCounter().GetValue()
			case "accord_alerts_dropped_total":
				dropped += m.GetCounter().GetValue()
			}
		}
	}
	require.EqualValues(t, 5000, raised, "every alert is counted")
	require.Positive(t, dropped, "what the queue cannot hold is counted as dropped")
	a.Close() // returns although posts hang
}
