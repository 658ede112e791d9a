package status

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/accordhq/accord/internal/store"
)

// Recorder records a partner's degraded flag (store.Store). It reports
// whether the write changed the flag: of several processes recording one
// transition, one does. The store wrapped by internal/notify sends
// partner.degraded and partner.recovered in the transaction of that one.
type Recorder interface {
	SetPartnerStatus(ctx context.Context, s store.PartnerStatus) (changed bool, err error)
}

// WatcherConfig tunes a Watcher.
type WatcherConfig struct {
	// Every is how often the monitor's verdicts are recorded; default the
	// monitor's SampleEvery.
	Every time.Duration
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Watcher records the monitor's verdicts as transitions, so that a
// partner going degraded or recovering is notified once per transition,
// not once per check, however many processes watch: each process judges
// the calls it makes, and the store keeps the flag they share. Only a
// verdict changes the flag: a partner no process has enough calls to
// judge stays as last recorded (an outage that holds writes back is not
// a recovery).
type Watcher struct {
	m     *Monitor
	rec   Recorder
	every time.Duration
	log   *slog.Logger

	mu   sync.Mutex
	stop chan struct{}
	done chan struct{}
}

// NewWatcher returns a Watcher of m recording into rec; cfg may be nil.
func NewWatcher(m *Monitor, rec Recorder, cfg *WatcherConfig) *Watcher {
	c := WatcherConfig{}
	if cfg != nil {
		c = *cfg
	}
	if c.Every <= 0 {
		c.Every = m.cfg.SampleEvery
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return &Watcher{m: m, rec: rec, every: c.Every, log: c.Logger}
}

// Check records the monitor's current verdicts once and returns the
// transitions this call recorded.
func (w *Watcher) Check(ctx context.Context) ([]store.PartnerStatus, error) {
	var out []store.PartnerStatus
	now := w.m.cfg.Now().UTC()
	for _, v := range w.m.Verdicts() {
		s := store.PartnerStatus{Provider: v.Provider, Degraded: v.Reason != "", Reason: v.Reason, ChangedAt: now}
		changed, err := w.rec.SetPartnerStatus(ctx, s)
		if err != nil {
			return out, fmt.Errorf("recording partner %s: %w", v.Provider, err)
		}
		if changed {
			out = append(out, s)
			w.log.InfoContext(ctx, "partner status changed", "provider", s.Provider, "degraded", s.Degraded,
				"reason", s.Reason, "calls", v.Calls, "error_rate", v.ErrorRate, "mean_latency_ms", v.LatencyMS)
		}
	}
	return out, nil
}

// Start checks every Every until Stop.
func (w *Watcher) Start(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop != nil {
		return nil
	}
	w.stop, w.done = make(chan struct{}), make(chan struct{})
	stop, done := w.stop, w.done
	go func() {
		defer close(done)
		t := time.NewTicker(w.every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if _, err := w.Check(ctx); err != nil {
				w.log.WarnContext(ctx, "recording partner status", "err", err)
			}
			cancel()
		}
	}()
	return nil
}

// Stop ends the checks and waits for the one running.
func (w *Watcher) Stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop == nil {
		return
	}
	close(w.stop)
	<-w.done
	w.stop, w.done = nil, nil
}
