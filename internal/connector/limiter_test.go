package connector

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type limiterBundle struct {
	lim   *Limiter
	clock *fakeClock
	reg   *prometheus.Registry
}

func setupLimiter(t *testing.T, rl *spec.RateLimit) *limiterBundle {
	t.Helper()
	clock := &fakeClock{now: testNow}
	reg := prometheus.NewRegistry()
	p := &spec.Provider{Name: "incidents", RateLimit: rl}
	lim, err := NewLimiter(p, &LimiterConfig{Now: clock.Now, Registerer: reg, IdleAfter: time.Hour, RecoverEvery: 10 * time.Second, RecoverStep: 0.25})
	require.NoError(t, err)
	return &limiterBundle{lim: lim, clock: clock, reg: reg}
}

// drain takes every immediately available request and returns how many.
func drain(l *Limiter, tenant string) int {
	n := 0
	for l.Reserve(tenant, "") == 0 {
		n++
		if n > 1000 {
			break
		}
	}
	return n
}

func TestLimiterReserve(t *testing.T) {
	t.Parallel()
	b := setupLimiter(t, &spec.RateLimit{RequestsPerSecond: 10, Burst: 4})

	require.Equal(t, 4, drain(b.lim, "acme"), "the burst (the fifth call reserved the next slot)")
	require.Equal(t, 4, drain(b.lim, "globex"), "another tenant has its own bucket")

	// A keyed caller that must wait holds its slot: asking again before
	// its time gives the same slot, not a new one behind everyone.
	first := b.lim.Reserve("acme", "job-1")
	second := b.lim.Reserve("acme", "job-2")
	require.Equal(t, 200*time.Millisecond, first, "after the slot drain's last call took")
	require.Equal(t, 300*time.Millisecond, second)
	b.clock.Advance(50 * time.Millisecond)
	require.Equal(t, 150*time.Millisecond, b.lim.Reserve("acme", "job-1"), "same slot, less to wait")
	b.clock.Advance(150 * time.Millisecond)
	require.Zero(t, b.lim.Reserve("acme", "job-1"), "back at its time: the slot is its own")
	require.Equal(t, 100*time.Millisecond, b.lim.Reserve("acme", "job-2"))
	require.Equal(t, 200*time.Millisecond, b.lim.Reserve("acme", "job-3"), "a newcomer queues behind job-2")

	require.Equal(t, 5.0, throttledCount(t, b.reg, "rate_limit"), "each waiting reservation counted once, not per question (drain's last call for each tenant, job-1..3)")
	legacy, err := registeredCounter(b.reg, "accord_rate_limited_total", "acme")
	require.NoError(t, err)
	require.Equal(t, 4.0, legacy, "drain's last call, job-1, job-2, job-3")
}

// TestLimiterSpreadsWakeUps: the herd of 2,015 jobs woken together is gone.
// Every reservation gets its own time, in order, one interval apart.
func TestLimiterSpreadsWakeUps(t *testing.T) {
	t.Parallel()
	b := setupLimiter(t, &spec.RateLimit{RequestsPerSecond: 10, Burst: 1})
	seen := map[time.Duration]bool{}
	prev := time.Duration(-1)
	for i := range 1000 {
		wait := b.lim.Reserve("acme", fmt.Sprintf("job-%d", i))
		require.False(t, seen[wait], "job-%d shares a wake-up time", i)
		seen[wait] = true
		if prev >= 0 {
			require.Equal(t, 100*time.Millisecond, wait-prev, "job-%d", i)
		}
		prev = wait
	}
	require.Len(t, seen, 1000)

	// Each job coming back at its time finds its slot: exactly one call
	// goes out per 100ms, and nobody re-reserves behind the queue. (job-0
	// was sent at once.)
	for i := 1; i < 1000; i++ {
		at := time.Duration(i) * 100 * time.Millisecond
		b.clock.now = testNow.Add(at)
		require.Zero(t, b.lim.Reserve("acme", fmt.Sprintf("job-%d", i)), "job-%d", i)
		if i+1 < 1000 {
			require.Equal(t, 100*time.Millisecond, b.lim.Reserve("acme", fmt.Sprintf("job-%d", i+1)), "job-%d is still early", i+1)
		}
	}
}

func TestLimiterRetryAfterHoldsThenReopens(t *testing.T) {
	t.Parallel()
	b := setupLimiter(t, &spec.RateLimit{RequestsPerSecond: 10, Burst: 10})
	require.Equal(t, 10.0, b.lim.Rate("acme"))

	// Twelve 429s with Retry-After 2s, each after the previous hold ended.
	for range 12 {
		b.lim.Backoff("acme", 2*time.Second)
		require.Equal(t, 2*time.Second, b.lim.Reserve("acme", "probe"), "held until Retry-After")
		require.Zero(t, b.lim.Reserve("globex", ""), "other tenants are not held back")
		b.clock.Advance(2 * time.Second)
		require.Zero(t, b.lim.Reserve("acme", "probe"), "open again after 2s")
		require.GreaterOrEqual(t, b.lim.Rate("acme"), 2.5, "never below the floor, a quarter of the manifest's rate")
	}
	require.Equal(t, 5.0, b.lim.Rate("acme"), "halved once: 24s of 429s is one window")
	require.Equal(t, 12.0, throttledCount(t, b.reg, "retry_after"), "the probe held back by each of the twelve holds")
}

func TestLimiterReductionIsBoundedAndRecovers(t *testing.T) {
	t.Parallel()
	b := setupLimiter(t, &spec.RateLimit{RequestsPerSecond: 8, Burst: 8})
	b.lim.Backoff("acme", 30*time.Second)
	require.Equal(t, 4.0, b.lim.Rate("acme"), "halved")
	b.clock.Advance(29 * time.Second)
	require.Equal(t, time.Second, b.lim.Reserve("acme", ""))

	b.lim.Backoff("acme", 0)
	require.Equal(t, 4.0, b.lim.Rate("acme"), "a 429 inside the same hold is the same signal")
	b.clock.Advance(time.Second)
	b.lim.Backoff("acme", 30*time.Second)
	require.Equal(t, 2.0, b.lim.Rate("acme"), "a later window, 30s after the last reduction, halves again")
	b.clock.Advance(30 * time.Second)
	b.lim.Backoff("acme", 30*time.Second)
	require.Equal(t, 2.0, b.lim.Rate("acme"), "the floor: a quarter of 8/s")

	// Additive increase from the end of the hold: a quarter of the
	// manifest rate per 10s.
	b.clock.Advance(30*time.Second + 9*time.Second)
	require.Equal(t, 2.0, b.lim.Rate("acme"))
	b.clock.Advance(time.Second)
	require.Equal(t, 4.0, b.lim.Rate("acme"))
	b.clock.Advance(time.Hour)
	require.Equal(t, 8.0, b.lim.Rate("acme"), "back to the manifest rate, never above")
	require.Equal(t, 8, drain(b.lim, "acme"), "and the full burst")
}

func TestLimiterBurstOf429sHalvesOnce(t *testing.T) {
	t.Parallel()
	b := setupLimiter(t, &spec.RateLimit{RequestsPerSecond: 8, Burst: 8})
	// Twenty calls were in flight when the partner started answering 429.
	for range 20 {
		b.lim.Backoff("acme", time.Second)
		b.clock.Advance(10 * time.Millisecond)
	}
	require.Equal(t, 4.0, b.lim.Rate("acme"), "one signal, one halving: the rate does not collapse")
}

func TestLimiterHoldReschedulesWaiters(t *testing.T) {
	t.Parallel()
	b := setupLimiter(t, &spec.RateLimit{RequestsPerSecond: 10, Burst: 1})
	require.Zero(t, b.lim.Reserve("acme", "a"))
	require.Equal(t, 100*time.Millisecond, b.lim.Reserve("acme", "b"))
	require.Equal(t, 200*time.Millisecond, b.lim.Reserve("acme", "c"))

	// The partner answers 429 with Retry-After 5s: the reserved slots
	// move past the hold, in order, at the reduced rate, still distinct.
	b.lim.Backoff("acme", 5*time.Second)
	b.clock.Advance(100 * time.Millisecond)
	require.Equal(t, 4900*time.Millisecond, b.lim.Reserve("acme", "b"), "b's slot is the first after the hold")
	require.Equal(t, 5100*time.Millisecond, b.lim.Reserve("acme", "c"), "c follows at 5/s")
	require.Equal(t, 5300*time.Millisecond, b.lim.Reserve("acme", "d"), "a newcomer queues behind")
	b.clock.Advance(4900 * time.Millisecond)
	require.Zero(t, b.lim.Reserve("acme", "b"))
}

func TestLimiterEmptyBucketAfterHold(t *testing.T) {
	t.Parallel()
	b := setupLimiter(t, &spec.RateLimit{RequestsPerSecond: 10, Burst: 10})
	require.Zero(t, b.lim.Reserve("acme", ""))
	b.lim.Backoff("acme", 0)
	require.Zero(t, b.lim.Reserve("acme", ""), "one call probes the partner")
	require.NotZero(t, b.lim.Reserve("acme", ""), "the partner said the window is spent: no burst")
}

func TestLimiterWithoutRateLimitSpreadsTheHold(t *testing.T) {
	t.Parallel()
	b := setupLimiter(t, nil)
	require.Equal(t, 1000, drain(b.lim, "acme")-1)
	b.lim.Backoff("acme", 5*time.Second)
	require.Equal(t, 5*time.Second, b.lim.Reserve("acme", "a"))
	require.Equal(t, 5*time.Second+10*time.Millisecond, b.lim.Reserve("acme", "b"), "released one by one, not as a herd")
	b.clock.Advance(5 * time.Second)
	require.Zero(t, b.lim.Reserve("acme", "a"))
	b.clock.Advance(time.Second)
	require.Zero(t, b.lim.Reserve("acme", "c"), "unlimited once the hold is worked off")
}

func TestLimiterEvictsIdleTenantsAndStaleReservations(t *testing.T) {
	t.Parallel()
	b := setupLimiter(t, &spec.RateLimit{RequestsPerSecond: 1, Burst: 1})
	require.Zero(t, b.lim.Reserve("idle", ""))
	require.NotZero(t, b.lim.Reserve("idle", ""))
	b.lim.Backoff("blocked", 2*time.Hour)
	require.Equal(t, 2, b.lim.tenants())

	b.clock.Advance(time.Hour)
	require.Zero(t, b.lim.Reserve("busy", ""))
	require.Equal(t, 2, b.lim.tenants(), "idle dropped, blocked kept until its Retry-After, busy added")
	_, err := registeredCounter(b.reg, "accord_rate_limited_total", "idle")
	require.Error(t, err, "the evicted tenant's series is gone")
	require.NotZero(t, b.lim.Reserve("blocked", ""))

	// A reservation whose job never came back is dropped.
	require.Equal(t, time.Second, b.lim.Reserve("busy", "gone"))
	require.Equal(t, 1, b.lim.reservations("busy"))
	b.clock.Advance(time.Hour)
	b.lim.Reserve("busy", "")
	require.Zero(t, b.lim.reservations("busy"))
}

func TestLimiterConcurrentUse(t *testing.T) {
	t.Parallel()
	b := setupLimiter(t, &spec.RateLimit{RequestsPerSecond: 100, Burst: 50})
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	waits := map[time.Duration]bool{}
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				w := b.lim.Reserve("acme", fmt.Sprintf("%d-%d", g, i))
				mu.Lock()
				if w == 0 {
					passed++
				} else {
					require.False(t, waits[w], "two reservations share a slot")
					waits[w] = true
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Equal(t, 50, passed, "the clock stood still: exactly the burst passes")
	require.Len(t, waits, 750, "everyone else has a slot of their own")
}

// throttledCount reads accord_throttled_total{provider="incidents",reason}.
func throttledCount(t *testing.T, reg *prometheus.Registry, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "accord_throttled_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["provider"] == "incidents" && labels["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// Each process used to keep the whole manifest rate: N workers offered the
// partner N times it. With a share of 1/2 one process books slots twice as
// far apart and half the burst, so two together stay within the manifest.
func TestLimiterShareSplitsTheRate(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: testNow}
	share := 0.5
	p := &spec.Provider{Name: "incidents", RateLimit: &spec.RateLimit{RequestsPerSecond: 10, Burst: 4}}
	lim, err := NewLimiter(p, &LimiterConfig{Now: clock.Now, Share: func() float64 { return share }})
	require.NoError(t, err)
	require.Equal(t, 2, drain(lim, "acme"), "half the burst")
	require.Equal(t, 400*time.Millisecond, lim.Reserve("acme", "job-1"), "half the rate: 5/s, one slot (200ms) after the one drain's last call took")

	share = 1 // the other process stopped: this one takes the whole rate again
	other, err := NewLimiter(p, &LimiterConfig{Now: clock.Now, Share: func() float64 { return share }})
	require.NoError(t, err)
	require.Equal(t, 4, drain(other, "acme"))
	share = 7 // nonsense is clamped to the whole rate
	require.Equal(t, 4, drain(other, "globex"))
}
