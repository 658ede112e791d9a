package connector

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// connectorMetrics are shared by every Connector on a registry: one
// Connector per provider registers the same names, so the second one reuses
// the first one's collectors instead of failing.
type connectorMetrics struct {
	requests    *prometheus.CounterVec
	deprecation *prometheus.CounterVec
}

func newConnectorMetrics(reg prometheus.Registerer) (*connectorMetrics, error) {
	if reg == nil {
		return nil, nil
	}
	req, err := registerCounterVec(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accord_partner_requests_total",
		Help: "Requests sent to partner APIs, by provider, operation and outcome (ok or the error class).",
	}, []string{"provider", "operation", "outcome"}))
	if err != nil {
		return nil, err
	}
	dep, err := registerCounterVec(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accord_partner_deprecation_total",
		Help: "Partner responses announcing the pinned API version's deprecation or sunset, by provider.",
	}, []string{"provider"}))
	if err != nil {
		return nil, err
	}
	return &connectorMetrics{requests: req, deprecation: dep}, nil
}

func registerCounterVec(reg prometheus.Registerer, c *prometheus.CounterVec) (*prometheus.CounterVec, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
			return existing, nil
		}
	}
	return nil, fmt.Errorf("connector: registering metrics: %w", err)
}
