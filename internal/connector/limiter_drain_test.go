package connector

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

// queueSim plays River's part for held jobs on a fake clock: a job
// snoozed for more than the scheduler interval is made available only at
// the scheduler's next 5s pass, a shorter snooze at the next 100ms fetch,
// and either is picked up a random 0–2s later still (busy workers), so
// jobs come back late and in batches, as they do in the backlog scenario.
type queueSim struct {
	clock *fakeClock
	rng   *rand.Rand
	q     simHeap
	seq   int
}

type simJob struct {
	at  time.Time
	seq int
	id  int
}

type simHeap []simJob

func (h simHeap) Len() int { return len(h) }
func (h simHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h simHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *simHeap) Push(x any)   { *h = append(*h, x.(simJob)) }
func (h *simHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func newQueueSim(clock *fakeClock, seed uint64) *queueSim {
	return &queueSim{clock: clock, rng: rand.New(rand.NewPCG(seed, seed))}
}

// snooze schedules job id to run again after wait, as River would.
func (s *queueSim) snooze(id int, wait time.Duration) {
	now := s.clock.Now()
	ready := now.Add(wait)
	tick := 100 * time.Millisecond
	if wait > 5*time.Second {
		tick = 5 * time.Second
	}
	if rem := ready.Sub(testNow) % tick; rem != 0 {
		ready = ready.Add(tick - rem)
	}
	ready = ready.Add(time.Duration(s.rng.Int64N(int64(2 * time.Second))))
	s.seq++
	heap.Push(&s.q, simJob{at: ready, seq: s.seq, id: id})
}

// next advances the clock to the next job's run and returns it.
func (s *queueSim) next() (int, bool) {
	if s.q.Len() == 0 {
		return 0, false
	}
	j := heap.Pop(&s.q).(simJob)
	s.clock.mu.Lock()
	if j.at.After(s.clock.now) {
		s.clock.now = j.at
	}
	s.clock.mu.Unlock()
	return j.id, true
}

// busiestSecond returns the most requests within any window of one second
// (sliding, not calendar) among sends, each sends[i] carrying n requests.
func busiestSecond(sends []time.Time, n int) int {
	slices.SortFunc(sends, func(a, b time.Time) int { return a.Compare(b) })
	most, lo := 0, 0
	for hi := range sends {
		for sends[hi].Sub(sends[lo]) >= time.Second {
			lo++
		}
		most = max(most, (hi-lo+1)*n)
	}
	return most
}

// A partner allowing 50 requests/s with a burst of 100 comes back from a
// Retry-After hold with 3,000 writes of one tenant held behind it, each a
// lookup and a create. The queue hands the jobs back late and in batches.
// The partner must never see more than its rate plus burst in any second,
// every write must be sent (no starvation), and the drain must run at the
// partner's rate, not below it.
func TestLimiterLateCallersKeepThePartnersRate(t *testing.T) {
	t.Parallel()
	const (
		rate, burst = 50, 100
		writes      = 3000
		perWrite    = 2
	)
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			clock := &fakeClock{now: testNow}
			p := &spec.Provider{Name: "incidents", RateLimit: &spec.RateLimit{RequestsPerSecond: rate, Burst: burst}}
			// MinFactor 1: the drain is measured against the manifest's
			// rate, not the halved one a 429 leaves behind for a while.
			lim, err := NewLimiter(p, &LimiterConfig{Now: clock.Now, MinFactor: 1})
			require.NoError(t, err)
			sim := newQueueSim(clock, seed)
			// The partner is down: every write is held.
			lim.Backoff("acme", time.Minute)
			for id := range writes {
				wait := lim.ReserveN("acme", fmt.Sprint("job-", id), perWrite)
				require.Positive(t, wait)
				sim.snooze(id, wait)
			}
			require.Equal(t, float64(rate), lim.Rate("acme"))
			back := clock.Now().Add(time.Minute)

			var sends []time.Time
			wakes := make([]int, writes)
			for {
				id, ok := sim.next()
				if !ok {
					break
				}
				require.Less(t, clock.Now().Sub(back), time.Hour, "a write starved")
				wakes[id]++
				if wait := lim.ReserveN("acme", fmt.Sprint("job-", id), perWrite); wait > 0 {
					sim.snooze(id, wait)
					continue
				}
				sends = append(sends, clock.Now())
			}
			require.Len(t, sends, writes, "every held write is sent")
			peak := busiestSecond(slices.Clone(sends), perWrite)
			require.LessOrEqual(t, peak, rate+burst, "requests within one second at the partner")
			drain := slices.MaxFunc(sends, time.Time.Compare).Sub(back)
			ideal := time.Duration(float64(writes*perWrite-burst) / rate * float64(time.Second))
			t.Logf("busiest second %d requests; drained in %s (at the rate: %s); wake-ups per write max %d", peak, drain, ideal, slices.Max(wakes))
			require.Less(t, drain, ideal+ideal/10+10*time.Second, "the drain keeps the partner's rate (late jobs and the queue's 5s passes allowed for)")
		})
	}
}

// A partner down for two hours answers 429 with Retry-After 10s to every
// request. Held writes used to wake at each renewal (up to once per
// Retry-After: 720 times in two hours), each wake-up a job fetch and a
// database write. Now, past HeldWakeAfter, each sleeps half the outage's
// age: a logarithmic number of wake-ups, then one per HeldWakeMax; all are
// sent once the partner is back.
func TestLimiterHeldWritesWakeRarely(t *testing.T) {
	t.Parallel()
	const (
		writes     = 200
		retryAfter = 10 * time.Second
		outage     = 2 * time.Hour
	)
	clock := &fakeClock{now: testNow}
	p := &spec.Provider{Name: "incidents", RateLimit: &spec.RateLimit{RequestsPerSecond: 10, Burst: 10}}
	const after, most = time.Minute, 10 * time.Minute
	lim, err := NewLimiter(p, &LimiterConfig{Now: clock.Now, HeldWakeAfter: after, HeldWakeMax: most})
	require.NoError(t, err)
	sim := newQueueSim(clock, 7)
	back := testNow.Add(outage)
	for id := range writes {
		sim.snooze(id, 0)
	}
	wakes := make([]int, writes)
	probes, sent := 0, 0
	var last time.Time
	for {
		id, ok := sim.next()
		if !ok {
			break
		}
		require.Less(t, clock.Now().Sub(back), time.Hour, "a write starved")
		wakes[id]++
		if wait := lim.Reserve("acme", fmt.Sprint("job-", id)); wait > 0 {
			sim.snooze(id, wait)
			continue
		}
		if clock.Now().Before(back) {
			// The engine's answer to a 429: hold the tenant and snooze
			// for the Retry-After.
			probes++
			lim.Backoff("acme", retryAfter)
			sim.snooze(id, retryAfter)
			continue
		}
		sent++
		last = clock.Now()
	}
	require.Equal(t, writes, sent, "every held write is sent once the partner is back")
	// Up to one per Retry-After until HeldWakeAfter, then the age grows
	// by half each sleep until the sleep reaches HeldWakeMax.
	bound := int(after/retryAfter) + int(math.Ceil(math.Log(float64(2*most/after))/math.Log(1.5))) + int(outage/most) + 4
	woke := slices.Max(wakes)
	t.Logf("wake-ups per write: max %d (bound %d; one per Retry-After would be %d); probes %d; last sent %s after the partner returned",
		woke, bound, int(outage/retryAfter), probes, last.Sub(back))
	require.LessOrEqual(t, woke, bound, "wake-ups of one held write over the outage")
	require.LessOrEqual(t, probes, int(outage/retryAfter)+writes, "the partner is probed about once per Retry-After, not by every write")
	require.Less(t, last.Sub(back), most+time.Minute, "sent within HeldWakeMax of the partner's return, plus the drain")
}

// During a long outage a held write that finds its place moved sleeps
// half the outage's age (at most HeldWakeMax); once the partner is back
// — writes go out after the last hold and no new one comes — the places
// the last hold moved are kept, so the backlog is not put off by minutes.
func TestLimiterPartnerBackEndsTheSpacing(t *testing.T) {
	t.Parallel()
	b := setupLimiter(t, &spec.RateLimit{RequestsPerSecond: 10, Burst: 10})
	// A cap longer than the default, so the spacing shows over the places.
	lim, err := NewLimiter(&spec.Provider{Name: "incidents", RateLimit: &spec.RateLimit{RequestsPerSecond: 10, Burst: 10}},
		&LimiterConfig{Now: b.clock.Now, IdleAfter: time.Hour, RecoverEvery: 10 * time.Second, RecoverStep: 0.25, HeldWakeMax: 2 * time.Minute})
	require.NoError(t, err)
	b.lim = lim
	b.lim.Backoff("acme", 10*time.Second)
	for i := range 100 {
		require.Positive(t, b.lim.Reserve("acme", fmt.Sprint("job-", i)))
	}
	require.Positive(t, b.lim.Reserve("acme", "early"))
	require.Positive(t, b.lim.Reserve("acme", "late"))
	// Ten minutes of 429s, each renewing the hold.
	for range 60 {
		b.clock.Advance(10 * time.Second)
		b.lim.Backoff("acme", 10*time.Second)
	}
	require.Equal(t, 2*time.Minute, b.lim.Reserve("acme", "early"), "still refused after ten minutes: half the outage's age, capped")

	// The partner is back: the hold ends and writes go out without a new one.
	b.clock.Advance(10 * time.Second)
	for range 5 {
		b.clock.Advance(b.lim.Reserve("acme", ""))
	}
	wait := b.lim.Reserve("acme", "late")
	require.Positive(t, wait)
	require.Less(t, wait, time.Minute, "told its place after the first hundred, not a sleep of minutes")
}
