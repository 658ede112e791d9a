package webhook

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcome is what became of one webhook request; it is the outcome label
// of accord_webhooks_received_total.
type Outcome string

const (
	OutcomeAccepted     Outcome = "accepted"
	OutcomeDuplicate    Outcome = "duplicate"
	OutcomeBadSignature Outcome = "bad_signature"
	OutcomeTooLarge     Outcome = "too_large"
	OutcomeMalformed    Outcome = "malformed"
	OutcomeIgnored      Outcome = "ignored"
	OutcomeNotFound     Outcome = "not_found"  // unknown or disconnected connection
	OutcomeError        Outcome = "error"      // our side failed: the partner should retry
	OutcomeOverloaded   Outcome = "overloaded" // refused with 503 and Retry-After: body budget or per-connection cap
)

// metrics are the ingress's Prometheus series. Labels are tenant and
// provider, never the connection id: ids are unbounded and would blow up
// the series count.
type metrics struct {
	received    *prometheus.CounterVec
	batchSize   prometheus.Histogram
	commitTime  prometheus.Histogram
	commitFails prometheus.Counter
	// dropped counts the keys minimisation removed from stored events; by
	// provider only: what a manifest leaves undeclared is the provider's
	// shape, not a tenant's.
	dropped *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "accord_webhooks_received_total",
			Help: "Webhook requests received, by tenant, provider and outcome; a batched body counts each of its events as accepted, duplicate or ignored.",
		}, []string{"tenant", "provider", "outcome"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "accord_webhook_commit_batch_size",
			Help:    "Events per ingress commit transaction (group commit).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024},
		}),
		commitTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "accord_webhook_commit_duration_seconds",
			Help:    "Duration of ingress commit transactions, fsync included.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1},
		}),
		commitFails: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "accord_webhook_commit_failures_total",
			Help: "Ingress commit transactions that failed (a failed batch is retried event by event).",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "accord_webhook_fields_dropped_total",
			Help: "Keys removed from accepted webhook events before they were stored, because the provider manifest does not declare them (data minimisation).",
		}, []string{"provider"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.received, m.batchSize, m.commitTime, m.commitFails, m.dropped} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("webhook: registering metrics: %w (one Ingress per registry)", err)
			}
			return nil, fmt.Errorf("webhook: registering metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) count(tenant, provider string, o Outcome) {
	m.received.WithLabelValues(tenant, provider, string(o)).Inc()
}

// countN counts n events of a batched body with outcome o.
func (m *metrics) countN(tenant, provider string, o Outcome, n int) {
	if n > 0 {
		m.received.WithLabelValues(tenant, provider, string(o)).Add(float64(n))
	}
}

// dropFields counts n keys minimisation removed from a stored event.
func (m *metrics) dropFields(provider string, n int) {
	if n > 0 {
		m.dropped.WithLabelValues(provider).Add(float64(n))
	}
}

func (m *metrics) observeCommit(n int, d time.Duration, err error) {
	m.batchSize.Observe(float64(n))
	m.commitTime.Observe(d.Seconds())
	if err != nil {
		m.commitFails.Inc()
	}
}

// registerBudget exports the bytes held by bodies in flight, read from the
// budget's own accounting (so the gauge cannot drift from what is
// enforced).
func (m *metrics) registerBudget(reg prometheus.Registerer, b *byteBudget) error {
	if reg == nil {
		return nil
	}
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "accord_webhook_body_bytes_in_flight",
		Help: "Bytes reserved for webhook request bodies being read or committed (bounded by max_bytes_in_flight).",
	}, func() float64 { return float64(b.used.Load()) })
	if err := reg.Register(g); err != nil {
		return fmt.Errorf("webhook: registering metrics: %w", err)
	}
	return nil
}
