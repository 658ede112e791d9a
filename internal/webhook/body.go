package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// errOverBudget means the bytes held by bodies in flight would exceed
// Config.MaxBytesInFlight: the request is answered 503 with Retry-After.
var errOverBudget = errors.New("webhook: bodies in flight are over budget")

// byteBudget accounts for the memory held by request bodies, across every
// request of an Ingress. A reader reserves each growth of its buffer before
// allocating it, so the total never exceeds limit however many senders
// are connected or what lengths they declare.
type byteBudget struct {
	limit int64
	used  atomic.Int64
	peak  atomic.Int64 // the most ever held, for tests and the gauge's peak
}

// reserve takes n bytes of the budget, or reports false and takes nothing.
func (b *byteBudget) reserve(n int64) bool {
	for {
		cur := b.used.Load()
		if cur+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(cur, cur+n) {
			for {
				p := b.peak.Load()
				if cur+n <= p || b.peak.CompareAndSwap(p, cur+n) {
					return true
				}
			}
		}
	}
}

func (b *byteBudget) release(n int64) { b.used.Add(-n) }

// firstChunk is the buffer a body starts in. It is small on purpose: a
// sender that declares a megabyte and sends nothing costs this much, not a
// megabyte.
const firstChunk = 4 << 10

// readBody reads r whole, at most limit bytes, into a buffer that grows
// (doubling) only as bytes actually arrive; the declared Content-Length is
// never used to size it. Every growth is reserved from budget first, and
// the caller releases the returned reserved count once it no longer holds
// the body (after the response), also when err is not nil.
//
// A body longer than limit fails with *http.MaxBytesError as soon as the
// excess byte arrives; a growth the budget cannot cover fails with
// errOverBudget.
func readBody(r io.Reader, limit int64, budget *byteBudget) (body []byte, reserved int64, err error) {
	grow := func(want int64) error {
		// One byte past the limit lets the reader see the body is too long.
		want = min(want, limit+1)
		if want <= int64(cap(body)) {
			return nil
		}
		if !budget.reserve(want - reserved) {
			return errOverBudget
		}
		reserved = want
		nb := make([]byte, len(body), want)
		copy(nb, body)
		body = nb
		return nil
	}
	if err := grow(firstChunk); err != nil {
		return nil, reserved, err
	}
	for {
		if len(body) == cap(body) {
			if int64(len(body)) > limit {
				return nil, reserved, &http.MaxBytesError{Limit: limit}
			}
			if err := grow(2 * int64(cap(body))); err != nil {
				return nil, reserved, err
			}
		}
		n, rerr := r.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if int64(len(body)) > limit {
			return nil, reserved, &http.MaxBytesError{Limit: limit}
		}
		if errors.Is(rerr, io.EOF) {
			return body, reserved, nil
		}
		if rerr != nil {
			return nil, reserved, rerr
		}
	}
}

// connLimiter caps the requests in flight per connection id, so that one
// connection's URL (which a hostile sender can learn) cannot take every
// slot of the budget from the others. A request past the cap waits a
// little for a slot (a partner's burst on one connection is normal and
// drains in milliseconds), then is refused.
type connLimiter struct {
	max  int
	wait time.Duration
	mu   sync.Mutex
	sems map[string]*connSlots
}

type connSlots struct {
	slots chan struct{}
	users int // requests holding or waiting for a slot; the entry goes at 0
}

func newConnLimiter(max int, wait time.Duration) *connLimiter {
	return &connLimiter{max: max, wait: wait, sems: map[string]*connSlots{}}
}

// acquire takes a slot for id, waiting up to the limiter's wait (or until
// ctx ends); false means none came free. Every call, true or false, is
// paired with one release.
func (l *connLimiter) acquire(ctx context.Context, id string) bool {
	l.mu.Lock()
	s := l.sems[id]
	if s == nil {
		s = &connSlots{slots: make(chan struct{}, l.max)}
		l.sems[id] = s
	}
	s.users++
	l.mu.Unlock()
	select {
	case s.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case s.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// release gives back what acquire took; held says whether it got a slot.
func (l *connLimiter) release(id string, held bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.sems[id]
	if held {
		<-s.slots
	}
	if s.users--; s.users == 0 {
		delete(l.sems, id) // the map holds only busy connections
	}
}
