package sim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/accordhq/accord/internal/webhook/signature"
)

// Delivery is the outcome of sending one webhook to one subscriber, after
// all its attempts.
type Delivery struct {
	EventID   string    `json:"event_id"`
	Type      string    `json:"type"`
	URL       string    `json:"url"`
	Attempts  int       `json:"attempts"`
	Status    int       `json:"status"`          // last HTTP status; 0 if none came back
	Err       string    `json:"error,omitempty"` // last transport error
	OK        bool      `json:"ok"`              // a 2xx came back
	Duplicate bool      `json:"duplicate,omitempty"`
	Reordered bool      `json:"reordered,omitempty"`
	Size      int       `json:"size"`
	At        time.Time `json:"at"`
}

// hooks delivers webhooks: one worker per subscriber, so each subscriber
// sees events in change order (unless a reorder fault says otherwise) and a
// slow subscriber delays only itself.
type hooks struct {
	b      *base
	scheme signature.Scheme

	mu      sync.Mutex
	done    []Delivery
	changed chan struct{} // closed and replaced on every recorded delivery
	subs    []*subscriber
}

type subscriber struct {
	url    string
	secret []byte

	mu    sync.Mutex
	queue []event
	wake  chan struct{} // capacity 1
}

func newHooks(b *base) *hooks {
	s, err := signature.New("standard-webhooks", signature.Options{})
	if err != nil {
		panic(fmt.Sprintf("sim: standard-webhooks scheme: %v", err)) // registered in init: cannot happen
	}
	return &hooks{b: b, scheme: s, changed: make(chan struct{})}
}

func (hk *hooks) enqueue(ev event) {
	hk.mu.Lock()
	subs := hk.subs
	hk.mu.Unlock()
	for _, s := range subs {
		s.mu.Lock()
		s.queue = append(s.queue, ev)
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (s *subscriber) pop(ctx context.Context) (event, bool) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			ev := s.queue[0]
			s.queue = s.queue[1:]
			s.mu.Unlock()
			return ev, true
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return event{}, false
		case <-s.wake:
		}
	}
}

// run delivers one subscriber's events in order, applying webhook faults.
// A reordered event waits for the next event and goes right after it; if no
// further event comes it is never sent, as with a partner that lost it.
func (hk *hooks) run(s *subscriber) {
	defer hk.b.wg.Done()
	ctx := hk.b.bg
	var held *event
	for {
		ev, ok := s.pop(ctx)
		if !ok {
			return
		}
		ft, faulted := hk.b.next(true, "", "")
		if faulted && ft.Kind == FaultReorder && held == nil {
			held = &ev
			continue
		}
		if faulted && ft.Kind == FaultOversized {
			ev.Padding = strings.Repeat("x", ft.Size)
		}
		hk.deliver(ctx, s, ev, false, false)
		if faulted && ft.Kind == FaultDuplicate {
			hk.deliver(ctx, s, ev, true, false)
		}
		if held != nil {
			hk.deliver(ctx, s, *held, false, true)
			held = nil
		}
	}
}

func (hk *hooks) deliver(ctx context.Context, s *subscriber, ev event, duplicate, reordered bool) {
	cfg := hk.b.cfg
	body := ev.body()
	d := Delivery{EventID: ev.ID, Type: ev.Type, URL: s.url, Duplicate: duplicate, Reordered: reordered, Size: len(body)}
	backoff := cfg.DeliveryBackoff
	for attempt := 1; attempt <= cfg.DeliveryAttempts; attempt++ {
		if attempt > 1 {
			if cfg.Sleep(ctx, backoff) != nil {
				break
			}
			backoff *= 2
		}
		d.Attempts = attempt
		d.At = cfg.Now()
		status, err := hk.post(ctx, s, ev.ID, body, d.At)
		d.Status, d.Err = status, ""
		if err != nil {
			d.Err = err.Error()
		}
		if err == nil && status >= 200 && status < 300 {
			d.OK = true
			break
		}
	}
	if !d.OK {
		cfg.Logger.Warn("sim: webhook delivery failed", "event_id", d.EventID, "url", d.URL, "attempts", d.Attempts, "status", d.Status, "error", d.Err)
	}
	hk.mu.Lock()
	hk.done = append(hk.done, d)
	close(hk.changed)
	hk.changed = make(chan struct{})
	hk.mu.Unlock()
}

func (hk *hooks) post(ctx context.Context, s *subscriber, id string, body []byte, now time.Time) (int, error) {
	h, err := hk.scheme.Sign(body, s.secret, now, id)
	if err != nil {
		return 0, fmt.Errorf("signing: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "accord-sim-helpdesk/1")
	resp, err := hk.b.cfg.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// Deliveries returns every finished delivery, in the order they finished.
func (h *Helpdesk) Deliveries() []Delivery {
	h.hooks.mu.Lock()
	defer h.hooks.mu.Unlock()
	return append([]Delivery(nil), h.hooks.done...)
}

// WaitDeliveries blocks until at least n deliveries have finished (or ctx
// ends) and returns them all.
func (h *Helpdesk) WaitDeliveries(ctx context.Context, n int) ([]Delivery, error) {
	for {
		h.hooks.mu.Lock()
		if len(h.hooks.done) >= n {
			out := append([]Delivery(nil), h.hooks.done...)
			h.hooks.mu.Unlock()
			return out, nil
		}
		ch := h.hooks.changed
		h.hooks.mu.Unlock()
		select {
		case <-ctx.Done():
			return h.Deliveries(), fmt.Errorf("sim: waiting for %d deliveries: %w", n, ctx.Err())
		case <-ch:
		}
	}
}
