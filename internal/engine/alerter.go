package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
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
type Alerter struct {
	url    string
	client *http.Client
	logger *slog.Logger
	total  *prometheus.CounterVec
}

// NewAlerter posts to url when it is not empty.
func NewAlerter(url string, logger *slog.Logger, reg prometheus.Registerer) *Alerter {
	a := &Alerter{
		url:    url,
		client: &http.Client{Timeout: 10 * time.Second},
		logger: logger,
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "accord_alerts_total",
			Help: "Alerts raised to admins, by tenant and record error class.",
		}, []string{"tenant", "class"}),
	}
	if reg != nil {
		reg.MustRegister(a.total)
	}
	return a
}

// Raise records the alert and posts it in the background; a failing alert
// webhook never blocks or fails the job that raised it.
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
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
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
	}()
}
