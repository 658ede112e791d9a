package connector

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

func (l *Limiter) tenants() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// registeredCounter reads the accord_rate_limited_total-like counter of
// tenant (provider incidents) from a registry.
func registeredCounter(reg *prometheus.Registry, name, tenant string) (float64, error) {
	mfs, err := reg.Gather()
	if err != nil {
		return 0, err
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["tenant"] == tenant && labels["provider"] == "incidents" {
				return m.GetCounter().GetValue(), nil
			}
		}
	}
	return 0, fmt.Errorf("no %s for tenant %s", name, tenant)
}

func (l *Limiter) reservations(tenant string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[tenant]; ok {
		return len(b.reserved)
	}
	return 0
}
