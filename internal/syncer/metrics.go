package syncer

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	records    *prometheus.CounterVec
	pages      *prometheus.CounterVec
	runs       *prometheus.CounterVec
	diffs      *prometheus.CounterVec
	droppedVec *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "accord_sync_records_total",
			Help: "Objects listed by sync runs, by provider, object and result: changed (stored as an event for the engine), unchanged (already stored with this content) or skipped (older than the watermark or the backfill boundary, or without an id).",
		}, []string{"provider", "object", "result"}),
		pages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "accord_sync_pages_total",
			Help: "Sync list pages, by provider, object and outcome (committed, failed: the run resumes at that page).",
		}, []string{"provider", "object", "outcome"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "accord_sync_runs_total",
			Help: "Complete sync runs (every page read and committed), by provider and object.",
		}, []string{"provider", "object"}),
		diffs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "accord_reconciliation_diffs_total",
			Help: "Differences reconciliations found between a partner object and what Accord last wrote to it, by provider, object and field.",
		}, []string{"provider", "object", "field"}),
		droppedVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "accord_sync_fields_dropped_total",
			Help: "Fields of listed objects that the provider manifest does not declare, dropped before the sync stored them (data minimisation), by provider and object.",
		}, []string{"provider", "object"}),
	}
	if reg != nil {
		reg.MustRegister(m.records, m.pages, m.runs, m.diffs, m.droppedVec)
	}
	return m
}

func (m *metrics) page(provider, object string, listed, changed, skipped int) {
	m.pages.WithLabelValues(provider, object, "committed").Inc()
	m.records.WithLabelValues(provider, object, "changed").Add(float64(changed))
	m.records.WithLabelValues(provider, object, "skipped").Add(float64(skipped))
	m.records.WithLabelValues(provider, object, "unchanged").Add(float64(listed - changed - skipped))
}

func (m *metrics) dropped(provider, object string, n int) {
	if n > 0 {
		m.droppedVec.WithLabelValues(provider, object).Add(float64(n))
	}
}

func (m *metrics) pageFailed(provider, object string) {
	m.pages.WithLabelValues(provider, object, "failed").Inc()
}

func (m *metrics) runDone(provider, object string) { m.runs.WithLabelValues(provider, object).Inc() }

func (m *metrics) diff(provider, object, field string) {
	m.diffs.WithLabelValues(provider, object, field).Inc()
}
