package oauth

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/accordhq/accord/internal/store"
)

// Refresh outcomes, the values of accord_token_refresh_total{outcome}.
const (
	outcomeRefreshed      = "refreshed"       // new token from the provider
	outcomeReused         = "reused"          // another caller had just refreshed
	outcomeNeedsReconnect = "needs_reconnect" // permanent failure: admin must reconnect
	outcomeError          = "error"           // transient failure: retried later
)

type metrics struct {
	refresh *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, st store.Store) (*metrics, error) {
	m := &metrics{
		refresh: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "accord_token_refresh_total",
			Help: "OAuth token refreshes by outcome (refreshed, reused, needs_reconnect, error).",
		}, []string{"outcome"}),
	}
	for _, o := range []string{outcomeRefreshed, outcomeReused, outcomeNeedsReconnect, outcomeError} {
		m.refresh.WithLabelValues(o)
	}
	if reg == nil {
		return m, nil
	}
	if err := reg.Register(m.refresh); err != nil {
		return nil, fmt.Errorf("oauth: registering metrics: %w", err)
	}
	if err := reg.Register(&connectionStates{st: st}); err != nil {
		return nil, fmt.Errorf("oauth: registering metrics: %w", err)
	}
	return m, nil
}

// connectionStates reports accord_connections{state} at scrape time from
// the store: the store is the truth shared by every process, so any process
// can answer.
type connectionStates struct {
	st store.Store
}

var connectionsDesc = prometheus.NewDesc("accord_connections", "Connections by state.", []string{"state"}, nil)

func (c *connectionStates) Describe(ch chan<- *prometheus.Desc) { ch <- connectionsDesc }

func (c *connectionStates) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts := map[store.ConnectionState]int{
		store.ConnectionActive: 0, store.ConnectionNeedsReconnect: 0,
		store.ConnectionMissingScopes: 0, store.ConnectionDisconnected: 0,
	}
	tenants, err := c.st.ListTenants(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(connectionsDesc, err)
		return
	}
	for _, t := range tenants {
		conns, err := c.st.ListConnections(ctx, t.ID)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(connectionsDesc, err)
			return
		}
		for _, conn := range conns {
			counts[conn.State]++
		}
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(connectionsDesc, prometheus.GaugeValue, float64(n), string(state))
	}
}
