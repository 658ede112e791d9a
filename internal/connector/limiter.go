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
	// ReservationTTL is how long past the time its caller was told to come
	// back a keyed reservation waits before it is forgotten. Default 5m.
	ReservationTTL time.Duration
	// HeldWakeAfter is the age of an outage (consecutive Retry-After
	// holds) from which a caller that comes back to find its place moved
	// by a renewed hold sleeps half the outage's age instead of only
	// until its new place: its wake-ups are then spaced geometrically,
	// each costing a job fetch and a database write. A shorter outage
	// keeps the places' pace, so its backlog drains as soon as the
	// partner is back. Default 1m.
	HeldWakeAfter time.Duration
	// HeldWakeMax caps that sleep: a write held for hours wakes about
	// every HeldWakeMax, and is sent at most this late after the partner
	// returns. A hold starting within HeldWakeMax of the previous one's
	// end continues the same outage. Default 0: off. Spacing lowers what
	// a long outage's held writes cost (0.87 to 0.44–0.47 CPU s/s with
	// 10,000 held for 3 minutes) but a write asleep when the partner
	// returns is sent up to HeldWakeMax late: the backlog then drained at
	// 0.45 (2m cap) and 0.59 (15s cap) of the steady rate, against 1.1
	// without. A drain at the partner's rate is what a tenant waits for,
	// so it stays off until held jobs are woken when the partner returns.
	HeldWakeMax time.Duration
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
	if out.HeldWakeAfter <= 0 {
		out.HeldWakeAfter = time.Minute
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
	// outageSince is when the holds in force began: consecutive holds,
	// each starting within HeldWakeMax of the previous one's end, are
	// one outage. sentAfterHold counts the writes let go since the last
	// hold ended: a partner still refusing would have set a new hold at
	// the first, so outageOver of them mean the partner is back.
	outageSince   time.Time
	sentAfterHold int
	// tat is the queue's GCRA theoretical arrival time: places are booked
	// at the rate and burst, and only decide when callers wake and in
	// which order.
	tat time.Time
	// sendTAT is the send bucket's, charged when a request is let go:
	// full when not after now, empty when burst intervals ahead.
	sendTAT time.Time
	// retryTAT is the end of the queue of due callers the send bucket
	// could not take at once.
	retryTAT time.Time
	// probe: a hold has ended and nothing was sent since. The bucket
	// restarts empty, yet the first write goes at the hold's end
	// whatever its number of requests, charged in full: it probes the
	// partner, and those after it wait the longer.
	probe    bool
	reserved map[string]reservation
	lastUsed time.Time
}

// reservation is a keyed caller's place. A backlog holds one per held
// write, so it is kept as small as a time.Time.
type reservation struct {
	at      int64 // Unix ns: not before this
	due     int64 // Unix ns: when the caller was told to come back (≥ at)
	n       uint8 // requests it asks for
	retry   bool  // queued for the send bucket after it was due
	counted bool  // already counted as throttled
}

func (r reservation) atTime() time.Time  { return time.Unix(0, r.at) }
func (r reservation) dueTime() time.Time { return time.Unix(0, r.due) }

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

// Reserve is ReserveN for one request.
func (l *Limiter) Reserve(tenantID, key string) time.Duration {
	return l.ReserveN(tenantID, key, 1)
}

// ReserveN asks for n requests of tenantID's budget (one write may be a
// lookup and a create: the partner counts requests, not writes) and
// returns how long the caller must wait before sending: 0 means send now.
// It never blocks.
//
// Two clocks are kept per tenant. A queue decides the order: the first
// ReserveN for a key books it a place, one rate interval (times n) after
// the previous one, so waiters wake one by one instead of all at once. A
// send bucket decides when a request may actually go: it is charged when
// ReserveN returns 0, at that moment, so sends never exceed the manifest's
// rate and burst however late callers come back. (Charging at booking
// time let a job the queue picked up after its slot send at once, and a
// batch of such late jobs sent together: 598 requests in one second to a
// partner allowing 50 per second with a burst of 100.)
//
// key names the caller across its snoozes (the engine passes the job's
// object lock key: one write per key is in flight at a time). The contract:
//
//   - The first ReserveN for a key books its place. If the place is now
//     and the send bucket has n requests left, they are taken and 0 is
//     returned; nothing is remembered.
//   - Otherwise the place is remembered under key and the wait returned.
//     The caller snoozes and calls again with the same key: before its
//     place it is told the remaining wait (asking early or often books
//     nothing); at or after it the send bucket is asked. A caller the
//     bucket cannot take now — callers that came back late together — is
//     queued for the bucket's next free requests, behind the callers
//     already waiting for them and ahead of the queue's later places, so
//     a late caller is neither sent at once nor starved.
//   - While a Retry-After hold is in force, places move past the hold in
//     order; a caller that comes back when told and finds its place moved
//     by a renewed hold sleeps half as long as the outage has lasted,
//     once it is HeldWakeAfter old (at most HeldWakeMax), so a partner
//     down for hours costs each held write a few wake-ups, not one per
//     Retry-After.
//   - A place not claimed within ReservationTTL after the caller was due
//     back is dropped.
//
// An empty key books requests in the send bucket itself: for a caller that
// waits in place (sleeps for the returned duration) and then sends without
// asking again.
func (l *Limiter) ReserveN(tenantID, key string, n int) time.Duration {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.bucket(tenantID, now)
	b.lastUsed = now
	l.recover(b, now)
	t := l.interval(b)
	if t == 0 {
		return l.reserveUnlimited(b, tenantID, key, now)
	}
	n = min(max(n, 1), l.burst(), math.MaxUint8)
	if key == "" {
		at := l.sendAt(b, now, n)
		l.charge(b, at, n)
		if !at.After(now) {
			return 0
		}
		l.count(tenantID, l.reason(b, now))
		return at.Sub(now)
	}
	r, ok := b.reserved[key]
	if !ok {
		slot := l.book(b, now, n)
		r = reservation{at: slot.UnixNano(), n: uint8(n)}
		if slot.After(now) {
			r.counted = true
			l.remember(b, key, r, slot)
			l.count(tenantID, l.reason(b, now))
			return slot.Sub(now)
		}
	}
	if now.Before(r.atTime()) {
		return l.tooEarly(b, key, r, now)
	}
	// Due. Callers already queued for the send bucket go first.
	if (r.retry || !b.retryTAT.After(now)) && !now.Before(b.holdUntil) {
		if at := l.sendAt(b, now, n); !at.After(now) {
			l.charge(b, now, n)
			delete(b.reserved, key)
			return 0
		}
	}
	at := later(b.retryTAT, l.sendAt(b, now, n))
	b.retryTAT = at.Add(time.Duration(n) * t)
	r.retry = true
	if !r.counted {
		r.counted = true
		l.count(tenantID, l.reason(b, now))
	}
	l.remember(b, key, r, at)
	return at.Sub(now)
}

// reserveUnlimited is ReserveN for a provider without a rate_limit: only a
// hold and the herd released after it queue.
func (l *Limiter) reserveUnlimited(b *bucket, tenantID, key string, now time.Time) time.Duration {
	if key != "" {
		if r, ok := b.reserved[key]; ok {
			if !now.Before(r.atTime()) {
				delete(b.reserved, key)
				return 0
			}
			return l.tooEarly(b, key, r, now)
		}
	}
	slot := l.book(b, now, 1)
	if !slot.After(now) {
		return 0
	}
	if key != "" {
		l.remember(b, key, reservation{n: 1, counted: true}, slot)
	}
	l.count(tenantID, l.reason(b, now))
	return slot.Sub(now)
}

// tooEarly is the wait of a caller that came back before its place. One
// that came back when it was told found its place moved by a renewed
// hold: the partner is still refusing, so each such wake-up is followed
// by a longer sleep.
func (l *Limiter) tooEarly(b *bucket, key string, r reservation, now time.Time) time.Duration {
	wait := r.atTime().Sub(now)
	if !now.Before(r.dueTime()) {
		wait = max(wait, l.heldWake(b, now))
	}
	r.due = now.Add(wait).UnixNano()
	b.reserved[key] = r
	return wait
}

// remember stores r under key with its place at.
func (l *Limiter) remember(b *bucket, key string, r reservation, at time.Time) {
	if b.reserved == nil {
		b.reserved = map[string]reservation{}
	}
	r.at = at.UnixNano()
	r.due = r.at
	b.reserved[key] = r
}

// heldWake is the least wait of a caller that found its place moved by a
// renewed hold: half the outage's age once it is HeldWakeAfter old, at
// most HeldWakeMax.
func (l *Limiter) heldWake(b *bucket, now time.Time) time.Duration {
	age := now.Sub(b.outageSince)
	if l.cfg.HeldWakeMax <= 0 || age < l.cfg.HeldWakeAfter || b.sentAfterHold >= outageOver {
		// A short outage, or the partner is back: the places that the
		// last hold moved are kept, so the backlog drains at once.
		return 0
	}
	return min(age/2, l.cfg.HeldWakeMax)
}

func (l *Limiter) reason(b *bucket, now time.Time) string {
	if now.Before(b.holdUntil) {
		return reasonRetryAfter
	}
	return reasonRateLimit
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
	if b.holdUntil.IsZero() || now.Sub(b.holdUntil) > l.cfg.HeldWakeMax || b.sentAfterHold >= outageOver {
		b.outageSince = now
	}
	b.sentAfterHold = 0
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
func (l *Limiter) book(b *bucket, now time.Time, n int) time.Time {
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
	// The place is when the first of the n requests conforms: the queue
	// only orders callers (the send bucket charges them all), and a write
	// of two requests at the end of a hold is not put off an interval.
	slot := tat.Add(-time.Duration(l.burst()-1) * t)
	if slot.Before(arrival) {
		slot = arrival
	}
	b.tat = tat.Add(time.Duration(n) * t)
	return slot
}

// sendAt is the earliest time, not before now nor the end of a hold, at
// which the send bucket has n requests left.
func (l *Limiter) sendAt(b *bucket, now time.Time, n int) time.Time {
	if b.probe {
		return later(now, b.holdUntil)
	}
	t := l.interval(b)
	return later(now, b.holdUntil, b.sendTAT.Add(time.Duration(n-l.burst())*t))
}

// charge charges the send bucket with n requests sent at at.
func (l *Limiter) charge(b *bucket, at time.Time, n int) {
	b.sendTAT = later(b.sendTAT, at).Add(time.Duration(n) * l.interval(b))
	b.probe = false
	if !at.Before(b.holdUntil) {
		b.sentAfterHold++
	}
}

// outageOver is how many writes let go after a hold, with no new hold
// meanwhile, end an outage.
const outageOver = 5

// reschedule restarts the queue and the send bucket empty at the end of
// the hold and gives the remembered reservations new places after it, in
// their old order.
func (l *Limiter) reschedule(b *bucket) {
	t := l.interval(b)
	b.tat = b.holdUntil.Add(time.Duration(max(l.burst()-1, 0)) * t)
	b.sendTAT, b.retryTAT, b.probe = b.tat, b.holdUntil, true
	if len(b.reserved) == 0 {
		return
	}
	keys := make([]string, 0, len(b.reserved))
	for k := range b.reserved {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y string) int {
		return cmp.Or(cmp.Compare(b.reserved[x].at, b.reserved[y].at), cmp.Compare(x, y))
	})
	for _, k := range keys {
		r := b.reserved[k]
		// due stays: the caller comes back when it was told and finds
		// its place moved, which is how a renewed hold is recognised.
		r.at, r.retry = l.book(b, b.holdUntil, int(r.n)).UnixNano(), false
		b.reserved[k] = r
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
		for k, r := range b.reserved {
			if now.Sub(time.Unix(0, max(r.at, r.due))) >= l.cfg.ReservationTTL {
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

// later returns the latest of ts.
func later(ts ...time.Time) time.Time {
	out := ts[0]
	for _, t := range ts[1:] {
		if t.After(out) {
			out = t
		}
	}
	return out
}
