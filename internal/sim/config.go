package sim

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Config configures a simulator. A nil *Config means all defaults; fields
// that only one simulator reads say so.
type Config struct {
	// Token is the bearer token accepted from the start, granted every scope
	// of the simulator. Default "sim-token".
	Token string
	// Now is the clock for timestamps and the rate limiter. Default time.Now.
	Now func() time.Time
	// Sleep waits for d or until ctx ends. Slow faults and webhook retry
	// backoff wait through it, so tests can record or skip the wait.
	// Default: a real timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// RateLimit is the Incidents token bucket's refill rate in requests per
	// second. Default 20; negative disables the limit.
	RateLimit float64
	// RateBurst is the bucket size. Default 2×RateLimit, at least 1.
	RateBurst int
	// Seed seeds the random fault mode, so a demo run is reproducible.
	// Default 1.
	Seed uint64
	// DeliveryAttempts is how often the helpdesk tries one webhook before
	// giving up. Default 4.
	DeliveryAttempts int
	// DeliveryBackoff is the wait before the first webhook retry, doubled
	// for each further retry. Default 100ms.
	DeliveryBackoff time.Duration
	// Client sends the helpdesk's webhooks. Default: a client with a 10s
	// timeout.
	Client *http.Client
	// BaseURL is the public URL put into ticket url fields. Default: the URL
	// Start returns, else http://<Host header> of the creating request.
	BaseURL string
	// Logger receives delivery failures and fault activity. Default: discard.
	Logger *slog.Logger
	// SearchLag is how long a CRM company takes to appear in search
	// results after it was created or changed, as HubSpot's index lags
	// behind writes (CRM only). Default 0: at once.
	SearchLag time.Duration
}

func (c *Config) withDefaults() Config {
	var out Config
	if c != nil {
		out = *c
	}
	if out.Token == "" {
		out.Token = "sim-token"
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.Sleep == nil {
		out.Sleep = sleep
	}
	if out.RateLimit == 0 {
		out.RateLimit = 20
	}
	if out.RateBurst <= 0 {
		out.RateBurst = max(1, int(2*out.RateLimit))
	}
	if out.Seed == 0 {
		out.Seed = 1
	}
	if out.DeliveryAttempts <= 0 {
		out.DeliveryAttempts = 4
	}
	if out.DeliveryBackoff <= 0 {
		out.DeliveryBackoff = 100 * time.Millisecond
	}
	if out.Client == nil {
		out.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return out
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
