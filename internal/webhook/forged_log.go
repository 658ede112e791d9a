package webhook

import (
	"sync"
	"time"
)

// forgedLogInterval is how often a connection may log a rejected
// signature. A forger can send thousands of requests a second; one line
// per request would drown the log and cost more than the check.
const forgedLogInterval = 10 * time.Second

// maxForgedLogEntries bounds the limiter's memory: past it, entries older
// than the interval are dropped, and if none are, the map is reset (a few
// extra lines beat unbounded growth).
const maxForgedLogEntries = 10_000

// logLimiter allows one line per key per interval and counts the lines
// held back in between, so the next line can say how many.
type logLimiter struct {
	interval time.Duration
	mu       sync.Mutex
	entries  map[string]*logEntry
}

type logEntry struct {
	last       time.Time
	suppressed int
}

func newLogLimiter(interval time.Duration) *logLimiter {
	return &logLimiter{interval: interval, entries: map[string]*logEntry{}}
}

// allow reports whether a line for key may be written at now, and how
// many were held back since the last one written.
func (l *logLimiter) allow(key string, now time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[key]
	if e != nil && now.Sub(e.last) < l.interval {
		e.suppressed++
		return false, 0
	}
	if e == nil {
		if len(l.entries) >= maxForgedLogEntries {
			l.evict(now)
		}
		e = &logEntry{}
		l.entries[key] = e
	}
	suppressed = e.suppressed
	e.last, e.suppressed = now, 0
	return true, suppressed
}

func (l *logLimiter) evict(now time.Time) {
	for k, e := range l.entries {
		if now.Sub(e.last) >= l.interval {
			delete(l.entries, k)
		}
	}
	if len(l.entries) >= maxForgedLogEntries {
		clear(l.entries)
	}
}
