package connector

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/accordhq/accord/internal/spec"
)

// LimiterConfig configures a Limiter. The zero value (or nil) is usable.
type LimiterConfig struct {
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Registerer receives accord_throttled_total{provider,reason} and
	// accord_rate_limited_total{tenant,provider}. Default nil: no metrics.
	Registerer prometheus.Registerer
	// IdleAfter is how long a tenant's bucket is kept unused before it is
	// dropped (it starts full again when the tenant returns). Default 15m.
	IdleAfter time.Duration
	// RecoverEvery is the interval of additive increase after a reduction:
	// each interval without a new hold gives back RecoverStep of the
	// manifest's rate. Default 10s.
	RecoverEvery time.Duration
	// RecoverStep is the fraction of the manifest's rate given back each
	// RecoverEvery. Default 0.1.
	RecoverStep float64
	// MinFactor is the floor of the rate, as a fraction of the manifest's,
	// however many 429s arrive. Default 1/4: a partner that keeps
	// answering 429 is obeyed through its Retry-After holds, not by
	// starving the tenant.
	MinFactor float64
	// ReduceEvery is the shortest interval between two reductions of a
	// tenant's rate: 429s within it are one signal. Default 30s.
	ReduceEvery time.Duration
	// ReservationTTL is how long past its slot a keyed reservation waits
	// for its caller to come back before it is forgotten. Default 5m.
	ReservationTTL time.Duration
	// HoldSpacing spaces the callers released at the end of a Retry-After
	// hold on a provider without a rate_limit (which gives no interval of
	// its own), so they do not return as one herd. Default 10ms.
	HoldSpacing time.Duration
	// Share is the fraction (0, 1] of the manifest's rate this process may
	// use: with N processes working one queue each takes 1/N, so together
	// they offer the partner the manifest's rate, not N times it. Called
	// on every booking; nil or a value outside (0, 1] means 1.
	Share func() float64
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
		out.MinFactor = 0.25
	}
	if out.ReduceEvery <= 0 {
		out.ReduceEvery = 30 * time.Second
	}
	if out.ReservationTTL <= 0 {
		out.ReservationTTL = 5 * time.Minute
	}
	if out.HoldSpacing <= 0 {
		out.HoldSpacing = 10 * time.Millisecond
	}
	return out
}

// Throttle reasons, the reason label of accord_throttled_total.
const (
	reasonRateLimit  = "rate_limit"  // the tenant's own bucket is spent
	reasonRetryAfter = "retry_after" // the partner's Retry-After holds the tenant
)

// Limiter enforces one provider's request budget per tenant. It is a
// scheduler, not a gate: each caller that cannot go now is given a slot of
// its own in the future (GCRA over the manifest's rate_limit), so waiters
// wake one interval apart instead of all at once. It never blocks: Reserve
// says how long to wait, and the engine snoozes the job rather than holding
// a worker that other tenants need.
//
// A 429 (Backoff) holds the tenant until the partner's Retry-After, moves
// the reserved slots past the hold, and may halve the rate, at most once
// per ReduceEvery and never below MinFactor of the manifest's; the rate
// then recovers additively. A provider without a rate_limit is unlimited
// except during such holds.
//
// State is per process: with several processes each enforces the budget
// for the jobs it runs, and a job snoozed in one and picked up by another
// reserves afresh there.
type Limiter struct {
	provider  string
	baseRate  float64 // requests per second; 0: unlimited
	baseBurst int
	cfg       LimiterConfig
	throttled *prometheus.CounterVec // {provider, reason}
	legacy    *prometheus.CounterVec // {tenant, provider}

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	factor     float64   // current fraction of the base rate
	lastAdjust time.Time // last reduction or recovery step
	lastReduce time.Time
	holdUntil  time.Time // the partner's Retry-After
	// tat is GCRA's theoretical arrival time: the bucket is full when tat
	// is not after now, and empty when it is burst intervals ahead.
	tat      time.Time
	reserved map[string]time.Time // key → its slot
	lastUsed time.Time
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
			Name: "accord_throttled_total",
			Help: "Partner calls held back instead of sent, by provider and reason: rate_limit (the tenant's bucket is spent) or retry_after (the partner's Retry-After holds the tenant). Each reservation counts once, however often its job asks.",
		}, []string{"provider", "reason"}))
		if err != nil {
			return nil, err
		}
		l.throttled = vec
		legacy, err := registerCounterVec(c.Registerer, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "accord_rate_limited_total",
			Help: "Partner calls held back by rate limiting (the tenant's bucket was empty, or the partner answered 429), by tenant and provider.",
		}, []string{"tenant", "provider"}))
		if err != nil {
			return nil, err
		}
		l.legacy = legacy
	}
	return l, nil
}

// Reserve books the next request slot of tenantID's budget and returns how
// long the caller must wait before sending: 0 means send now. It never
// blocks, and each caller that must wait gets a slot of its own, one rate
// interval after the previous one, so waiters do not wake together.
//
// key names the caller across its snoozes (the engine passes the job's
// object lock key: one write per key is in flight at a time). The contract:
//
//   - The first Reserve for a key books a slot. If the slot is now, it is
//     consumed and 0 is returned; nothing is remembered.
//   - Otherwise the slot is remembered under key and the wait returned.
//     The caller snoozes for it and calls Reserve again with the same key:
//     before the slot it is told the remaining wait (no second slot is
//     booked, so asking early or often costs nothing); at or after it, the
//     slot is consumed and 0 returned — the caller sends at once, without
//     queueing behind reservations made while it slept.
//   - If a Retry-After hold (Backoff) arrives meanwhile, remembered slots
//     move past the hold, in order; the returning caller is told the new
//     wait.
//   - A slot not claimed within ReservationTTL after its time is dropped.
//
// An empty key books a slot that is not remembered: for a caller that
// waits in place (sleeps for the returned duration) and then sends without
// asking again.
func (l *Limiter) Reserve(tenantID, key string) time.Duration {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.bucket(tenantID, now)
	b.lastUsed = now
	l.recover(b, now)
	if key != "" {
		if slot, ok := b.reserved[key]; ok {
			if !now.Before(slot) {
				delete(b.reserved, key)
				return 0
			}
			return slot.Sub(now)
		}
	}
	slot := l.book(b, now)
	if !slot.After(now) {
		return 0
	}
	if key != "" {
		if b.reserved == nil {
			b.reserved = map[string]time.Time{}
		}
		b.reserved[key] = slot
	}
	reason := reasonRateLimit
	if now.Before(b.holdUntil) {
		reason = reasonRetryAfter
	}
	l.count(tenantID, reason)
	return slot.Sub(now)
}

// Backoff records a 429 for tenantID: nothing is sent for it until
// retryAfter has passed (a hold, not a lasting penalty), slots reserved
// before the hold move past it, and the bucket restarts empty at its end
// (one call, then one per interval). The rate is halved when the previous
// reduction is at least ReduceEvery old and the 429 is not one of the
// answers to calls already in flight during the current hold; it never
// goes below MinFactor of the manifest's rate, and recovers RecoverStep
// every RecoverEvery after the hold.
func (l *Limiter) Backoff(tenantID string, retryAfter time.Duration) {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(tenantID, now)
	b.lastUsed = now
	l.recover(b, now)
	if l.legacy != nil {
		l.legacy.WithLabelValues(tenantID, l.provider).Inc()
	}
	sameWindow := now.Before(b.holdUntil)
	if l.baseRate > 0 && !sameWindow && (b.lastReduce.IsZero() || now.Sub(b.lastReduce) >= l.cfg.ReduceEvery) {
		b.factor = max(b.factor/2, l.cfg.MinFactor)
		b.lastReduce, b.lastAdjust = now, now
	}
	until := now.Add(max(retryAfter, 0))
	if sameWindow && !until.After(b.holdUntil) {
		return // the same hold, already in force
	}
	b.holdUntil = until
	l.reschedule(b)
}

// Rate returns tenantID's current rate in requests per second (0 when the
// provider is unlimited).
func (l *Limiter) Rate(tenantID string) float64 {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[tenantID]
	if !ok || l.baseRate == 0 {
		return l.baseRate
	}
	l.recover(b, now)
	return l.baseRate * b.factor
}

func (l *Limiter) bucket(tenantID string, now time.Time) *bucket {
	b, ok := l.buckets[tenantID]
	if !ok {
		b = &bucket{factor: 1, lastAdjust: now}
		l.buckets[tenantID] = b
	}
	return b
}

// interval is the time between two slots at the bucket's current rate; 0
// when the provider is unlimited.
func (l *Limiter) interval(b *bucket) time.Duration {
	if l.baseRate == 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / (l.baseRate * b.factor * l.share()))
}

// share is Config.Share, clamped to (0, 1].
func (l *Limiter) share() float64 {
	if l.cfg.Share == nil {
		return 1
	}
	if f := l.cfg.Share(); f > 0 && f < 1 {
		return f
	}
	return 1
}

// burst is the manifest's burst, scaled to this process's share.
func (l *Limiter) burst() int {
	return max(1, int(math.Ceil(float64(l.baseBurst)*l.share())))
}

// book takes the next free slot at or after now and after any hold (GCRA:
// the slot is the earliest time the request conforms to rate and burst).
func (l *Limiter) book(b *bucket, now time.Time) time.Time {
	arrival := now
	if b.holdUntil.After(arrival) {
		arrival = b.holdUntil
	}
	t := l.interval(b)
	if t == 0 {
		// Unlimited: only a hold and the herd released after it queue.
		if arrival.Equal(now) && !b.tat.After(now) {
			return now
		}
		slot := arrival
		if b.tat.After(slot) {
			slot = b.tat
		}
		b.tat = slot.Add(l.cfg.HoldSpacing)
		return slot
	}
	tat := b.tat
	if arrival.After(tat) {
		tat = arrival
	}
	tat = tat.Add(t)
	slot := tat.Add(-time.Duration(l.burst()) * t)
	if slot.Before(arrival) {
		slot = arrival
	}
	b.tat = tat
	return slot
}

// reschedule restarts the bucket empty at the end of the hold and gives
// the remembered reservations new slots after it, in their old order.
func (l *Limiter) reschedule(b *bucket) {
	t := l.interval(b)
	b.tat = b.holdUntil.Add(time.Duration(max(l.burst()-1, 0)) * t)
	if len(b.reserved) == 0 {
		return
	}
	keys := make([]string, 0, len(b.reserved))
	for k := range b.reserved {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y string) int { return cmp.Or(b.reserved[x].Compare(b.reserved[y]), cmp.Compare(x, y)) })
	for _, k := range keys {
		b.reserved[k] = l.book(b, b.holdUntil)
	}
}

// recover gives back RecoverStep of the base rate for each whole
// RecoverEvery since the last adjustment or the end of a hold.
func (l *Limiter) recover(b *bucket, now time.Time) {
	if b.factor >= 1 {
		return
	}
	// Time spent held by Retry-After proves nothing about the partner's
	// capacity: recovery counts from the end of the hold.
	from := b.lastAdjust
	if b.holdUntil.After(from) {
		from = b.holdUntil
	}
	steps := int64(now.Sub(from) / l.cfg.RecoverEvery)
	if steps <= 0 {
		return
	}
	b.factor = min(1, b.factor+float64(steps)*l.cfg.RecoverStep)
	b.lastAdjust = from.Add(time.Duration(steps) * l.cfg.RecoverEvery)
}

// sweep drops, at most every IdleAfter/4, reservations unclaimed for
// ReservationTTL past their slot, and buckets idle for IdleAfter with no
// hold and no reservation left.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < l.cfg.IdleAfter/4 {
		return
	}
	l.lastSweep = now
	for id, b := range l.buckets {
		for k, slot := range b.reserved {
			if now.Sub(slot) >= l.cfg.ReservationTTL {
				delete(b.reserved, k)
			}
		}
		if now.Sub(b.lastUsed) >= l.cfg.IdleAfter && !now.Before(b.holdUntil) && len(b.reserved) == 0 {
			delete(l.buckets, id)
			if l.legacy != nil {
				l.legacy.DeleteLabelValues(id, l.provider)
			}
		}
	}
}

func (l *Limiter) count(tenantID, reason string) {
	if l.throttled != nil {
		l.throttled.WithLabelValues(l.provider, reason).Inc()
	}
	if l.legacy != nil {
		l.legacy.WithLabelValues(tenantID, l.provider).Inc()
	}
}
