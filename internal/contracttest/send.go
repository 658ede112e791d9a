package contracttest

import (
	"context"
	"time"

	"github.com/accordhq/accord/internal/spec"
)

// Sent is what one event did: how the webhook was answered, the engine's
// outcome, and every partner exchange.
type Sent struct {
	Status       int
	Outcome      string
	RetryAfter   time.Duration
	Exchanges    []Exchange
	RecordErrors []string
}

// Send runs one webhook event through c as a test step does, against
// cfg's partners: with cfg.Live and cfg.Sandboxes, the requests go to the
// sandboxes (`accord dryrun --live`). eventType is for providers that carry
// the type in a header ("" when the body has it).
func Send(ctx context.Context, c *spec.Contract, event map[string]any, eventType string, cfg *Config) (*Sent, error) {
	st, done, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer done()
	h, err := newHarness(ctx, cfg, st, c, "ten_dryrun", "")
	if err != nil {
		return nil, err
	}
	res, err := h.send(ctx, &Step{Event: event, Type: eventType})
	if cerr := h.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return &Sent{Status: res.status, Outcome: res.outcome, RetryAfter: res.retryAfter, Exchanges: res.exchanges, RecordErrors: res.recordError}, nil
}
