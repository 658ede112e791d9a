package status

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config tunes a Monitor.
type Config struct {
	// Window is how far back calls are counted; default 5 minutes.
	Window time.Duration
	// SampleEvery is the least time between two reads of the metrics;
	// default 10 seconds. Reads happen when someone asks, never on a timer.
	SampleEvery time.Duration
	// MinCalls is how many calls the window needs before a verdict;
	// default 20.
	MinCalls float64
	// ErrorRate is the failed share of calls that marks a partner
	// degraded; default 0.2.
	ErrorRate float64
	// Latency is the mean write latency that marks a partner degraded;
	// default 5 seconds.
	Latency time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Degraded is one partner in trouble.
type Degraded struct {
	Provider    string        `json:"provider"`
	Reason      string        `json:"reason"` // "errors" or "latency"
	Calls       int           `json:"calls"`
	ErrorRate   float64       `json:"error_rate"`
	MeanLatency time.Duration `json:"-"`
	LatencyMS   int64         `json:"mean_latency_ms"`
}

// failedOutcomes are the outcomes of accord_partner_requests_total that
// say the partner, not the request, is in trouble.
var failedOutcomes = map[string]bool{"transient": true, "rate_limited": true, "error": true}

// Monitor samples a Gatherer and judges partners over a sliding window.
type Monitor struct {
	gather  prometheus.Gatherer
	cfg     Config
	mu      sync.Mutex
	samples []sample
}

type sample struct {
	at        time.Time
	providers map[string]counts
}

type counts struct {
	calls, failed      float64
	latSum, latSamples float64
}

// NewMonitor returns a Monitor reading g (the process's registry).
func NewMonitor(g prometheus.Gatherer, cfg *Config) *Monitor {
	c := Config{}
	if cfg != nil {
		c = *cfg
	}
	if c.Window <= 0 {
		c.Window = 5 * time.Minute
	}
	if c.SampleEvery <= 0 {
		c.SampleEvery = 10 * time.Second
	}
	if c.MinCalls <= 0 {
		c.MinCalls = 20
	}
	if c.ErrorRate <= 0 {
		c.ErrorRate = 0.2
	}
	if c.Latency <= 0 {
		c.Latency = 5 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Monitor{gather: g, cfg: c}
}

// Degraded returns the partners in trouble now, by provider name. It
// reads the metrics at most once per SampleEvery.
func (m *Monitor) Degraded() []Degraded {
	var out []Degraded
	for _, v := range m.judge() {
		if v.Reason != "" {
			out = append(out, v)
		}
	}
	return out
}

// Verdicts returns every partner with a clear verdict, by provider name:
// degraded ones with their Reason, healthy ones with an empty Reason. A
// partner with too few calls in the window (idle, or its writes held
// back) has none, and neither has one between the thresholds and half of
// them: it is not said to have recovered until it is clearly healthy, so
// a partner near a threshold does not flap between the two. It reads the
// metrics at most once per SampleEvery.
func (m *Monitor) Verdicts() []Degraded {
	var out []Degraded
	for _, v := range m.judge() {
		if v.Reason != "" || (v.ErrorRate < m.cfg.ErrorRate/2 && v.MeanLatency < m.cfg.Latency/2) {
			out = append(out, v)
		}
	}
	return out
}

// judge returns every partner with enough calls in the window, with its
// Reason when it crosses a threshold.
func (m *Monitor) judge() []Degraded {
	if m == nil {
		return nil
	}
	now := m.cfg.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := len(m.samples); n == 0 || now.Sub(m.samples[n-1].at) >= m.cfg.SampleEvery {
		if s, ok := m.read(now); ok {
			m.samples = append(m.samples, s)
		}
	}
	// Keep one sample at or before the window's start as the baseline.
	cut := 0
	for i, s := range m.samples {
		if !s.at.After(now.Add(-m.cfg.Window)) {
			cut = i
		}
	}
	m.samples = m.samples[cut:]
	if len(m.samples) < 2 {
		return nil
	}
	first, last := m.samples[0], m.samples[len(m.samples)-1]
	var out []Degraded
	for p, c := range last.providers {
		b := first.providers[p]
		calls, failed := c.calls-b.calls, c.failed-b.failed
		if calls < m.cfg.MinCalls {
			continue
		}
		d := Degraded{Provider: p, Calls: int(calls), ErrorRate: failed / calls}
		if n := c.latSamples - b.latSamples; n > 0 {
			d.MeanLatency = time.Duration((c.latSum - b.latSum) / n * float64(time.Second))
			d.LatencyMS = d.MeanLatency.Milliseconds()
		}
		switch {
		case d.ErrorRate >= m.cfg.ErrorRate:
			d.Reason = "errors"
		case d.MeanLatency >= m.cfg.Latency:
			d.Reason = "latency"
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Degraded) int { return strings.Compare(a.Provider, b.Provider) })
	return out
}

// read sums the partner metrics by provider.
func (m *Monitor) read(now time.Time) (sample, bool) {
	mfs, err := m.gather.Gather()
	if err != nil && len(mfs) == 0 {
		return sample{}, false
	}
	s := sample{at: now, providers: map[string]counts{}}
	for _, mf := range mfs {
		switch mf.GetName() {
		case "accord_partner_requests_total":
			for _, mt := range mf.GetMetric() {
				var provider, outcome string
				for _, l := range mt.GetLabel() {
					switch l.GetName() {
					case "provider":
						provider = l.GetValue()
					case "outcome":
						outcome = l.GetValue()
					}
				}
				c := s.providers[provider]
				v := mt.GetCounter().GetValue()
				c.calls += v
				if failedOutcomes[outcome] {
					c.failed += v
				}
				s.providers[provider] = c
			}
		case "accord_action_duration_seconds":
			for _, mt := range mf.GetMetric() {
				var provider string
				for _, l := range mt.GetLabel() {
					if l.GetName() == "provider" {
						provider = l.GetValue()
					}
				}
				c := s.providers[provider]
				c.latSum += mt.GetHistogram().GetSampleSum()
				c.latSamples += float64(mt.GetHistogram().GetSampleCount())
				s.providers[provider] = c
			}
		}
	}
	return s, true
}
