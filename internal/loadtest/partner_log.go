package loadtest

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// partnerLog counts the requests a simulator answered, per bearer token
// (one per tenant): the storming tenant's requests, and each tenant's
// busiest second against its manifest's rate limit.
type partnerLog struct {
	mu      sync.Mutex
	byToken map[string]*tokenCalls
}

type tokenCalls struct {
	total   int // requests answered
	limited int // of which 429
	// The current one-second window (Unix seconds) and its count, and the
	// largest count of a window since the last resetPeak.
	sec       int64
	inSec     int
	peakInSec int
}

func newPartnerLog() *partnerLog { return &partnerLog{byToken: map[string]*tokenCalls{}} }

func (l *partnerLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sec := time.Now().Unix()
		l.mu.Lock()
		defer l.mu.Unlock()
		c := l.byToken[token]
		if c == nil {
			c = &tokenCalls{}
			l.byToken[token] = c
		}
		c.total++
		if sw.status == http.StatusTooManyRequests {
			c.limited++
		}
		if c.sec != sec {
			c.sec, c.inSec = sec, 0
		}
		c.inSec++
		c.peakInSec = max(c.peakInSec, c.inSec)
	})
}

// counts returns the requests and 429s answered to token so far.
func (l *partnerLog) counts(token string) (total, limited int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.byToken[token]; c != nil {
		return c.total, c.limited
	}
	return 0, 0
}

// resetPeak starts a new measurement of the busiest second.
func (l *partnerLog) resetPeak() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.byToken {
		c.peakInSec, c.inSec, c.sec = 0, 0, 0
	}
}

// peak returns the most requests any one token made within one calendar
// second since resetPeak.
func (l *partnerLog) peak() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	var p int
	for _, c := range l.byToken {
		p = max(p, c.peakInSec)
	}
	return p
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(s int) {
	if !w.wrote {
		w.status, w.wrote = s, true
	}
	w.ResponseWriter.WriteHeader(s)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}
