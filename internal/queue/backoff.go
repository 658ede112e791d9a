package queue

import (
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Backoff defaults.
const (
	DefaultBackoffBase   = time.Second
	DefaultBackoffMax    = time.Hour
	DefaultBackoffJitter = 0.2
)

// Backoff is the default retry policy: exponential backoff from Base,
// doubling per failure, capped at Max, with each delay shortened by a
// random fraction up to Jitter so that jobs failing together (a partner
// outage) do not come back together. The zero value uses the defaults.
//
// Failures are counted from the job's recorded errors, not its attempt:
// snoozes do not use up attempts and must not lengthen the backoff either.
type Backoff struct {
	// Base is the delay after the first failure. Default 1 s.
	Base time.Duration
	// Max caps every delay. Default 1 h.
	Max time.Duration
	// Jitter is the largest fraction cut from a delay, in [0, 1].
	// Default 0.2; a negative value disables jitter.
	Jitter float64
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Rand returns a number in [0, 1). Default math/rand/v2.Float64.
	Rand func() float64
}

var _ river.ClientRetryPolicy = (*Backoff)(nil)

// NextRetry implements river.ClientRetryPolicy.
func (b *Backoff) NextRetry(job *rivertype.JobRow) time.Time {
	now := time.Now
	if b.Now != nil {
		now = b.Now
	}
	return now().Add(b.Delay(len(job.Errors) + 1))
}

// Delay returns the wait after the failure-th failure (from 1).
func (b *Backoff) Delay(failure int) time.Duration {
	base, limit, jitter := b.Base, b.Max, b.Jitter
	if base <= 0 {
		base = DefaultBackoffBase
	}
	if limit <= 0 {
		limit = DefaultBackoffMax
	}
	switch {
	case jitter == 0:
		jitter = DefaultBackoffJitter
	case jitter < 0:
		jitter = 0
	case jitter > 1:
		jitter = 1
	}

	d := base
	for i := 1; i < failure && d < limit; i++ {
		d *= 2 // an overflow shows as d <= 0, caught below
	}
	if d > limit || d <= 0 {
		d = limit
	}
	if jitter > 0 {
		r := rand.Float64
		if b.Rand != nil {
			r = b.Rand
		}
		d -= time.Duration(float64(d) * jitter * r())
	}
	return d
}
