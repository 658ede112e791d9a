package connector

import (
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
	for l.Reserve(tenant) == 0 {
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

	require.Equal(t, 4, drain(b.lim, "acme"), "the burst")
	wait := b.lim.Reserve("acme")
	require.Equal(t, 100*time.Millisecond, wait, "one token at 10/s")
	require.Equal(t, 4, drain(b.lim, "globex"), "another tenant has its own bucket")

	// A refused Reserve takes nothing: after the wait exactly one passes.
	b.clock.Advance(wait)
	require.Zero(t, b.lim.Reserve("acme"))
	require.NotZero(t, b.lim.Reserve("acme"))

	throttled, err := registeredCounter(b.reg, "accord_rate_limited_total", "acme")
	require.NoError(t, err)
	require.Equal(t, 3.0, throttled, "each wait counted for the tenant")
}

func TestLimiterBackoffAndRecovery(t *testing.T) {
	t.Parallel()
	b := setupLimiter(t, &spec.RateLimit{RequestsPerSecond: 8, Burst: 8})
	require.Equal(t, 8.0, b.lim.Rate("acme"))

	b.lim.Backoff("acme", 30*time.Second)
	require.Equal(t, 4.0, b.lim.Rate("acme"), "halved")
	require.Equal(t, 30*time.Second, b.lim.Reserve("acme"), "blocked until Retry-After")
	b.clock.Advance(29 * time.Second)
	require.Equal(t, time.Second, b.lim.Reserve("acme"))
	require.Zero(t, b.lim.Reserve("globex"), "other tenants are not held back")

	b.lim.Backoff("acme", 0)
	require.Equal(t, 4.0, b.lim.Rate("acme"), "a 429 inside the same Retry-After window is the same signal, not another halving")
	b.clock.Advance(time.Second)
	b.lim.Backoff("acme", 0)
	require.Equal(t, 2.0, b.lim.Rate("acme"), "a 429 after the window halves again: no recovery while blocked")

	// Additive increase from the end of the block: a quarter of the
	// manifest rate per 10s.
	b.clock.Advance(9 * time.Second)
	require.Equal(t, 2.0, b.lim.Rate("acme"))
	b.clock.Advance(time.Second)
	require.Equal(t, 4.0, b.lim.Rate("acme"))
	b.clock.Advance(10 * time.Second)
	require.Equal(t, 6.0, b.lim.Rate("acme"))
	b.clock.Advance(time.Hour - time.Minute)
	require.Equal(t, 8.0, b.lim.Rate("acme"), "back to the manifest rate, never above")
	require.Equal(t, 8, drain(b.lim, "acme"), "and the full burst")
}

func TestLimiterBackoffFloor(t *testing.T) {
	t.Parallel()
	b := setupLimiter(t, &spec.RateLimit{RequestsPerSecond: 64})
	for range 20 {
		b.lim.Backoff("acme", 0)
	}
	require.Equal(t, 1.0, b.lim.Rate("acme"), "never below 1/64 of the manifest rate")
	b.clock.Advance(5 * time.Second)
	require.Equal(t, 5, drain(b.lim, "acme"), "refilled at the floor rate")
}

func TestLimiterBackoffEmptiesTheBucket(t *testing.T) {
	t.Parallel()
	b := setupLimiter(t, &spec.RateLimit{RequestsPerSecond: 10, Burst: 10})
	require.Zero(t, b.lim.Reserve("acme"))
	b.lim.Backoff("acme", 0)
	require.NotZero(t, b.lim.Reserve("acme"), "the partner said the window is spent")
}

func TestLimiterWithoutRateLimitOnlyHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	b := setupLimiter(t, nil)
	require.Equal(t, 1000, drain(b.lim, "acme")-1)
	b.lim.Backoff("acme", 5*time.Second)
	require.Equal(t, 5*time.Second, b.lim.Reserve("acme"))
	b.clock.Advance(5 * time.Second)
	require.Zero(t, b.lim.Reserve("acme"))
}

func TestLimiterEvictsIdleTenants(t *testing.T) {
	t.Parallel()
	b := setupLimiter(t, &spec.RateLimit{RequestsPerSecond: 1, Burst: 1})
	require.Zero(t, b.lim.Reserve("idle"))
	require.NotZero(t, b.lim.Reserve("idle"))
	b.lim.Backoff("blocked", 2*time.Hour)
	require.Equal(t, 2, b.lim.tenants())

	b.clock.Advance(time.Hour)
	require.Zero(t, b.lim.Reserve("busy"))
	require.Equal(t, 2, b.lim.tenants(), "idle dropped, blocked kept until its Retry-After, busy added")
	_, err := registeredCounter(b.reg, "accord_rate_limited_total", "idle")
	require.Error(t, err, "the evicted tenant's series is gone")
	require.NotZero(t, b.lim.Reserve("blocked"))
}

func TestLimiterConcurrentUse(t *testing.T) {
	t.Parallel()
	b := setupLimiter(t, &spec.RateLimit{RequestsPerSecond: 100, Burst: 50})
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if b.lim.Reserve("acme") == 0 {
					mu.Lock()
					passed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, 50, passed, "the clock stood still: exactly the burst passes")
}

func TestLimiterBurstOf429sHalvesOnce(t *testing.T) {
	t.Parallel()
	b := setupLimiter(t, &spec.RateLimit{RequestsPerSecond: 8, Burst: 8})
	// Twenty calls were in flight when the partner started answering 429.
	for range 20 {
		b.lim.Backoff("acme", time.Second)
		b.clock.Advance(10 * time.Millisecond)
	}
	require.Equal(t, 4.0, b.lim.Rate("acme"), "one signal, one halving: the rate does not collapse to its floor")
}
