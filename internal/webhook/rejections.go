package webhook

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/accordhq/accord/internal/store"
)

// rejections counts the requests refused on known connections, per
// connection, hour and reason, for the Integration Health page. Counting
// is a map increment under a mutex; the counts reach the store every
// flush interval in one statement, so a forger flooding a connection with
// bad signatures costs no database write per request. The map holds one
// entry per (connection, hour, reason) seen since the last flush, so it is
// bounded by the connections that exist, not by the requests.
//
// The counts of the last interval are lost if the process crashes before
// flushing them (Close flushes): acceptable for health statistics, and
// Prometheus counted each request anyway.
type rejections struct {
	st     store.Store
	now    func() time.Time
	logger *slog.Logger
	every  time.Duration

	mu     sync.Mutex
	counts map[rejectionKey]int
	// flushing serialises flushes (the loop's and FlushRejections').
	flushing sync.Mutex

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

type rejectionKey struct {
	tenant, conn, reason string
	hour                 int64
}

func newRejections(st store.Store, now func() time.Time, logger *slog.Logger, every time.Duration) *rejections {
	return &rejections{st: st, now: now, logger: logger, every: every, counts: map[rejectionKey]int{},
		stop: make(chan struct{}), done: make(chan struct{})}
}

// add counts one refused request on conn.
func (r *rejections) add(conn store.Connection, o Outcome) {
	if conn.ID == "" || conn.TenantID == "" {
		return // not a connection of any tenant: Prometheus counts it
	}
	k := rejectionKey{tenant: conn.TenantID, conn: conn.ID, reason: string(o), hour: r.now().Unix() / 3600}
	r.mu.Lock()
	r.counts[k]++
	r.mu.Unlock()
}

// start flushes every interval until close.
func (r *rejections) start() {
	go func() {
		defer close(r.done)
		t := time.NewTicker(r.every)
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), r.every)
				if err := r.flush(ctx); err != nil {
					r.logger.Warn("webhook: storing rejection counts", slog.Any("error", err))
				}
				cancel()
			}
		}
	}()
}

// close stops the loop and flushes what is left.
func (r *rejections) close() {
	first := false
	r.closeOnce.Do(func() { first = true; close(r.stop) })
	if !first {
		return
	}
	<-r.done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.flush(ctx); err != nil {
		r.logger.Warn("webhook: storing rejection counts on close", slog.Any("error", err))
	}
}

// flush writes the counts taken so far in one statement. On failure they
// are put back, to be tried again with the next flush.
func (r *rejections) flush(ctx context.Context) error {
	r.flushing.Lock()
	defer r.flushing.Unlock()
	r.mu.Lock()
	taken := r.counts
	r.counts = map[rejectionKey]int{}
	r.mu.Unlock()
	if len(taken) == 0 {
		return nil
	}
	rs := make([]store.WebhookRejection, 0, len(taken))
	for k, n := range taken {
		rs = append(rs, store.WebhookRejection{TenantID: k.tenant, ConnectionID: k.conn, Reason: k.reason,
			Hour: time.Unix(k.hour*3600, 0).UTC(), N: n})
	}
	if err := r.st.AddWebhookRejections(ctx, rs); err != nil {
		r.mu.Lock()
		for k, n := range taken {
			r.counts[k] += n
		}
		r.mu.Unlock()
		return err
	}
	return nil
}
