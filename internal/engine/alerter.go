package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Alert is what an admin is told when a record exhausts its retries or an
// account needs attention. It never carries secrets or record payloads.
type Alert struct {
	TenantID       string    `json:"tenant_id"`
	InstallationID string    `json:"installation_id,omitempty"`
	ConnectionID   string    `json:"connection_id,omitempty"`
	Contract       string    `json:"contract,omitempty"`
	Object         string    `json:"object,omitempty"`
	SourceID       string    `json:"source_id,omitempty"`
	Class          string    `json:"class"`
	Message        string    `json:"message"`
	Remediation    string    `json:"remediation"`
	RecordErrorID  string    `json:"record_error_id,omitempty"`
	At             time.Time `json:"at"`
}

// Alerter raises alerts three ways: an error log line, the
// accord_alerts_total counter, and a JSON POST to the configured webhook.
// Posts go through a bounded queue and a fixed number of senders: a slow
// or dead alert webhook costs a full queue (alerts past it are counted in
// accord_alerts_dropped_total and still logged), never a goroutine each.
type Alerter struct {
	url     string
	client  *http.Client
	logger  *slog.Logger
	total   *prometheus.CounterVec
	dropped prometheus.Counter
	posts   chan []byte
	wg      sync.WaitGroup
	once    sync.Once
	quit    chan struct{}
}

// Alerter queue bounds.
const (
	alertQueue   = 256
	alertSenders = 2
)

// NewAlerter posts to url when it is not empty. Close stops its senders.
func NewAlerter(url string, logger *slog.Logger, reg prometheus.Registerer) *Alerter {
	a := &Alerter{
		url:    url,
		client: &http.Client{Timeout: 10 * time.Second},
		logger: logger,
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "accord_alerts_total",
			Help: "Alerts raised to admins, by tenant and record error class.",
		}, []string{"tenant", "class"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "accord_alerts_dropped_total",
			Help: "Alerts not posted to the alert webhook because its queue was full (each is still logged and counted in accord_alerts_total).",
		}),
		posts: make(chan []byte, alertQueue),
		quit:  make(chan struct{}),
	}
	if reg != nil {
		reg.MustRegister(a.total, a.dropped)
	}
	if url != "" {
		for range alertSenders {
			a.wg.Add(1)
			go a.send()
		}
	}
	return a
}

// Raise records the alert and queues its post; a failing alert webhook
// never blocks or fails the job that raised it.
func (a *Alerter) Raise(ctx context.Context, al Alert) {
	a.total.WithLabelValues(al.TenantID, al.Class).Inc()
	a.logger.ErrorContext(ctx, "integration alert", "tenant_id", al.TenantID, "installation_id", al.InstallationID,
		"connection_id", al.ConnectionID, "class", al.Class, "object", al.Object, "source_id", al.SourceID,
		"record_error_id", al.RecordErrorID, "remediation", al.Remediation)
	if a.url == "" {
		return
	}
	body, err := json.Marshal(al)
	if err != nil {
		return
	}
	select {
	case <-a.quit:
		a.dropped.Inc()
	case a.posts <- body:
	default:
		a.dropped.Inc()
		a.logger.WarnContext(ctx, "alert webhook queue full; alert not posted", "tenant_id", al.TenantID, "class", al.Class)
	}
}

// Close stops the senders; alerts still queued are dropped (they were
// logged when raised). Safe to call more than once.
func (a *Alerter) Close() {
	a.once.Do(func() { close(a.quit) })
	a.wg.Wait()
}

func (a *Alerter) send() {
	defer a.wg.Done()
	for {
		select {
		case <-a.quit:
			return
		case body := <-a.posts:
			a.post(body)
		}
	}
}

func (a *Alerter) post(body []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		// Close abandons a post in flight rather than waiting its timeout.
		select {
		case <-a.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url, bytes.NewReader(body))
	if err != nil {
		a.logger.Warn("alert webhook: bad url", "err", err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		a.logger.Warn("alert webhook failed", "err", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		a.logger.Warn("alert webhook refused", "status", resp.StatusCode)
	}
}
