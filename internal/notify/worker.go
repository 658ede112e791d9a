package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/riverqueue/river"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/accordhq/accord/internal/store"
)

// KindDeliver is the job kind of one delivery.
const KindDeliver = "accord_notify_deliver"

// DeliverArgs names the delivery a job sends.
type DeliverArgs struct {
	TenantID   string `json:"tenant_id"`
	DeliveryID string `json:"delivery_id"`
}

// Kind returns KindDeliver.
func (DeliverArgs) Kind() string { return KindDeliver }

type worker struct {
	river.WorkerDefaults[DeliverArgs]
	n *Notifier
}

func (w *worker) Timeout(*river.Job[DeliverArgs]) time.Duration { return 30 * time.Second }

func jsonMarshal(v any) (json.RawMessage, error) { return json.Marshal(v) }

// Work sends the delivery once. A 2xx delivers it; a REST hook whose
// target answers 410 Gone is unsubscribed (the iPaaS side removed it);
// anything else is retried until MaxAttempts, then the delivery is
// failed. Each attempt is written to the delivery's log.
func (w *worker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	n := w.n
	d, err := n.st.GetNotifyDelivery(ctx, job.Args.TenantID, job.Args.DeliveryID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // its endpoint was deleted
	}
	if err != nil {
		return err
	}
	if d.State == store.NotifyDelivered || d.State == store.NotifyFailed {
		return nil
	}
	ep, err := n.st.GetNotifyEndpoint(ctx, d.TenantID, d.EndpointID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	status, sendErr := n.send(ctx, ep, d)
	d.Attempts++
	d.LastStatus = status
	d.LastError = ""
	if sendErr != nil {
		d.LastError = truncate(sendErr.Error(), 500)
	}
	switch {
	case sendErr == nil:
		d.State = store.NotifyDelivered
	case status == http.StatusGone && ep.Kind == store.NotifyRESTHook:
		n.cfg.Logger.InfoContext(ctx, "REST hook target is gone; unsubscribing", "tenant_id", ep.TenantID, "hook_id", ep.ID)
		return n.DeleteEndpoint(ctx, ep.TenantID, ep.ID, "accord")
	case job.Attempt >= job.MaxAttempts:
		d.State = store.NotifyFailed
	}
	if err := n.st.UpdateNotifyDelivery(ctx, d); err != nil {
		return err
	}
	if d.State == store.NotifyQueued {
		return sendErr // River retries with backoff
	}
	return nil
}

// send signs and posts the delivery; nil only for a 2xx.
func (n *Notifier) send(ctx context.Context, ep store.NotifyEndpoint, d store.NotifyDelivery) (int, error) {
	now := n.cfg.Now()
	secrets := [][]byte{ep.Secret}
	if ep.PreviousSecret != nil && now.Before(ep.PreviousExpiresAt) {
		secrets = append(secrets, ep.PreviousSecret)
	}
	var sigs []string
	for _, sealed := range secrets {
		secret, err := n.sealer.Open(ctx, ep.TenantID, sealed)
		if err != nil {
			return 0, fmt.Errorf("opening endpoint secret: %w", err)
		}
		wh, err := standardwebhooks.NewWebhook(string(secret))
		if err != nil {
			return 0, fmt.Errorf("endpoint secret: %w", err)
		}
		sig, err := wh.Sign(d.ID, now, d.Payload)
		if err != nil {
			return 0, fmt.Errorf("signing: %w", err)
		}
		sigs = append(sigs, sig)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Accord-Notifications/1")
	req.Header.Set(standardwebhooks.HeaderWebhookID, d.ID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, fmt.Sprint(now.Unix()))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, strings.Join(sigs, " "))
	resp, err := n.client.Do(req)
	if err != nil {
		// The URL's query may carry a token: report the cause alone.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, fmt.Errorf("posting to %s: %w", redactURL(ep.URL), err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("%s answered %d", redactURL(ep.URL), resp.StatusCode)
	}
	return resp.StatusCode, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
