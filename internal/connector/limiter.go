package connector

import (
	"math"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/accordhq/accord/internal/spec"
)

// LimiterConfig configures a Limiter. The zero value (or nil) is usable.
type LimiterConfig struct {
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Registerer receives accord_rate_limited_total. Default nil: no
	// metrics.
	Registerer prometheus.Registerer
	// IdleAfter is how long a tenant's bucket is kept unused before it is
	// dropped (it starts full again when the tenant returns). Default 15m.
	IdleAfter time.Duration
	// RecoverEvery is the interval of additive increase after a Backoff:
	// each interval without a 429 gives back RecoverStep of the manifest's
	// rate. Default 10s.
	RecoverEvery time.Duration
	// RecoverStep is the fraction of the manifest's rate given back each
	// RecoverEvery. Default 0.1 (from half to the full rate in 50s).
	RecoverStep float64
	// MinFactor is the floor of the rate, as a fraction of the manifest's,
	// however many 429s arrive. Default 1/64.
	MinFactor float64
}

func (c *LimiterConfig) withDefaults() LimiterConfig {
	var out LimiterConfig
	if c != nil {
		out = *c
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.IdleAfter <= 0 {
		out.IdleAfter = 15 * time.Minute
	}
	if out.RecoverEvery <= 0 {
		out.RecoverEvery = 10 * time.Second
	}
	if out.RecoverStep <= 0 {
		out.RecoverStep = 0.1
	}
	if out.MinFactor <= 0 || out.MinFactor > 1 {
		out.MinFactor = 1.0 / 64
	}
	return out
}

// Limiter enforces one provider's request budget per tenant: a token bucket
// per tenant at the manifest's rate_limit, halved on each 429 and recovering
// additively. It never blocks: Reserve says how long to wait, and the engine
// snoozes the job rather than holding a worker that other tenants need.
//
// A provider without a rate_limit is unlimited, except that Backoff still
// holds a tenant back until the partner's Retry-After.
type Limiter struct {
	provider  string
	baseRate  float64 // requests per second; 0: unlimited
	baseBurst int
	cfg       LimiterConfig
	throttled *prometheus.CounterVec

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim          *rate.Limiter // nil when unlimited
	factor       float64       // current fraction of the base rate
	lastAdjust   time.Time     // last backoff or recovery step
	blockedUntil time.Time     // the partner's Retry-After
	lastUsed     time.Time
}

// NewLimiter returns the limiter for p's rate_limit. The burst defaults to
// the rate rounded up.
func NewLimiter(p *spec.Provider, cfg *LimiterConfig) (*Limiter, error) {
	c := cfg.withDefaults()
	l := &Limiter{provider: p.Name, cfg: c, buckets: map[string]*bucket{}}
	if rl := p.RateLimit; rl != nil && rl.RequestsPerSecond > 0 {
		l.baseRate = rl.RequestsPerSecond
		l.baseBurst = rl.Burst
		if l.baseBurst <= 0 {
			l.baseBurst = int(math.Ceil(rl.RequestsPerSecond))
		}
	}
	if c.Registerer != nil {
		vec, err := registerCounterVec(c.Registerer, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "accord_rate_limited_total",
			Help: "Partner calls held back by rate limiting (the tenant's bucket was empty, or the partner answered 429), by tenant and provider.",
		}, []string{"tenant", "provider"}))
		if err != nil {
			return nil, err
		}
		l.throttled = vec
	}
	return l, nil
}

// Reserve takes one request from tenantID's budget and returns 0, or, when
// the budget is spent, takes nothing and returns how long to wait before
// asking again. It never blocks.
func (l *Limiter) Reserve(tenantID string) time.Duration {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.bucket(tenantID, now)
	b.lastUsed = now
	if now.Before(b.blockedUntil) {
		l.count(tenantID)
		return b.blockedUntil.Sub(now)
	}
	if b.lim == nil {
		return 0
	}
	l.recover(b, now)
	tokens := b.lim.TokensAt(now)
	if tokens >= 1 {
		b.lim.AllowN(now, 1)
		return 0
	}
	l.count(tenantID)
	wait := time.Duration(math.Ceil((1 - tokens) / float64(b.lim.Limit()) * float64(time.Second)))
	return max(wait, time.Millisecond)
}

// Backoff records a 429 for tenantID: its rate is halved (down to
// MinFactor of the manifest's; once per Retry-After window), its bucket
// emptied, and Reserve returns a wait until retryAfter has passed.
func (l *Limiter) Backoff(tenantID string, retryAfter time.Duration) {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(tenantID, now)
	b.lastUsed = now
	// 429s for calls already in flight when the first one came back are
	// the same signal, not new ones: only a 429 after the previous
	// Retry-After window has passed halves the rate again. Otherwise a
	// burst of answers collapses the rate to its floor at once.
	sameWindow := now.Before(b.blockedUntil)
	if until := now.Add(retryAfter); until.After(b.blockedUntil) {
		b.blockedUntil = until
	}
	l.count(tenantID)
	if b.lim == nil {
		return
	}
	l.recover(b, now)
	if !sameWindow {
		b.factor = max(b.factor/2, l.cfg.MinFactor)
		b.lastAdjust = now
		l.apply(b, now)
	}
	// The partner says the window is spent, whatever our bucket believed.
	if t := b.lim.TokensAt(now); t >= 1 {
		b.lim.AllowN(now, int(t))
	}
}

// Rate returns tenantID's current rate in requests per second (0 when the
// provider is unlimited).
func (l *Limiter) Rate(tenantID string) float64 {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[tenantID]
	if !ok {
		return l.baseRate
	}
	if b.lim == nil {
		return 0
	}
	l.recover(b, now)
	return float64(b.lim.Limit())
}

func (l *Limiter) bucket(tenantID string, now time.Time) *bucket {
	b, ok := l.buckets[tenantID]
	if !ok {
		b = &bucket{factor: 1, lastAdjust: now}
		if l.baseRate > 0 {
			b.lim = rate.NewLimiter(rate.Limit(l.baseRate), l.baseBurst)
		}
		l.buckets[tenantID] = b
	}
	return b
}

// recover gives back RecoverStep of the base rate for each whole
// RecoverEvery since the last adjustment or the end of a block.
func (l *Limiter) recover(b *bucket, now time.Time) {
	if b.factor >= 1 {
		return
	}
	// Time spent blocked by Retry-After proves nothing about the partner's
	// capacity: recovery counts from the end of the block.
	from := b.lastAdjust
	if b.blockedUntil.After(from) {
		from = b.blockedUntil
	}
	steps := int64(now.Sub(from) / l.cfg.RecoverEvery)
	if steps <= 0 {
		return
	}
	b.factor = min(1, b.factor+float64(steps)*l.cfg.RecoverStep)
	b.lastAdjust = from.Add(time.Duration(steps) * l.cfg.RecoverEvery)
	l.apply(b, now)
}

// apply sets the bucket's rate from its factor. The burst stays the
// manifest's: Backoff empties the bucket, and what refills afterwards does so
// at the reduced rate.
func (l *Limiter) apply(b *bucket, now time.Time) {
	b.lim.SetLimitAt(now, rate.Limit(l.baseRate*b.factor))
}

// sweep drops buckets idle for IdleAfter, at most every IdleAfter/4.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < l.cfg.IdleAfter/4 {
		return
	}
	l.lastSweep = now
	for id, b := range l.buckets {
		if now.Sub(b.lastUsed) >= l.cfg.IdleAfter && !now.Before(b.blockedUntil) {
			delete(l.buckets, id)
			if l.throttled != nil {
				l.throttled.DeleteLabelValues(id, l.provider)
			}
		}
	}
}

func (l *Limiter) count(tenantID string) {
	if l.throttled != nil {
		l.throttled.WithLabelValues(tenantID, l.provider).Inc()
	}
}
