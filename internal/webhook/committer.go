package webhook

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/store"
)

// ErrClosed is returned for a request that arrives after Close.
var ErrClosed = errors.New("webhook: ingress closed")

// pending is what one request asks to commit: its events (one, or every
// known event of a batched body) with their jobs. They commit together or
// not at all: a partner resends a refused body whole, so a half-stored one
// would be half duplicates on the retry and half lost if it never came.
type pending struct {
	events []store.Event
	jobs   []river.InsertManyParams // jobs[i] is events[i]'s; Args nil: none
	done   chan commitResult        // buffered: the committer never blocks on it
}

type commitResult struct {
	inserted []bool // per event; false: a duplicate of a stored event
	err      error
}

// item is one event of a pending, as the transaction inserts it.
type item struct {
	p *pending
	i int
}

func (it item) event() *store.Event { return &it.p.events[it.i] }

// committer stores events and enqueues their jobs, many requests per
// transaction. Requests queue on a bounded channel; each committer
// goroutine takes everything queued (up to MaxBatch) and commits it as one
// transaction, so while one commit runs (mostly waiting on its fsync) the
// next batch forms by itself. On SQLite one goroutine is enough and more
// would only wait for the single writer; on PostgreSQL several overlap
// their round trips.
type committer struct {
	st       store.Store
	q        Queue
	logger   *slog.Logger
	metrics  *metrics
	maxBatch int
	linger   time.Duration
	timeout  time.Duration

	// mu guards closed against submit: Close takes it exclusively, so no
	// submit is half-way through sending when the channel is closed.
	mu     sync.RWMutex
	closed bool
	queue  chan *pending
	wg     sync.WaitGroup

	txs atomic.Int64

	// dispatch, when set, receives the events each commit accepted (see
	// Deps.Dispatch).
	dispatch func([]store.Event)
}

func newCommitter(st store.Store, q Queue, logger *slog.Logger, m *metrics, cfg *Config) *committer {
	return &committer{
		st:       st,
		q:        q,
		logger:   logger,
		metrics:  m,
		maxBatch: cfg.MaxBatch,
		linger:   cfg.Linger,
		timeout:  cfg.CommitTimeout,
		queue:    make(chan *pending, cfg.QueueSize),
	}
}

// start runs n committer goroutines until close.
func (c *committer) start(n int) {
	for range n {
		c.wg.Add(1)
		go c.run()
	}
}

// submit queues p, waiting for room while ctx lasts. Once it returns nil,
// p will be committed (or fail) whatever happens to ctx: the caller reads
// p.done.
func (c *committer) submit(ctx context.Context, p *pending) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return ErrClosed
	}
	select {
	case c.queue <- p:
		return nil
	default:
	}
	select {
	case c.queue <- p:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("webhook: waiting for the commit queue: %w", ctx.Err())
	}
}

// close stops taking new events, commits everything queued and returns
// when the committer goroutines are done.
func (c *committer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.queue)
	}
	c.mu.Unlock()
	c.wg.Wait()
}

func (c *committer) run() {
	defer c.wg.Done()
	batch := make([]*pending, 0, c.maxBatch)
	var timer *time.Timer
	last := 0 // size of the previous batch
	for first := range c.queue {
		batch = append(batch[:0], first)
		batch = c.fill(batch)
		if c.linger > 0 && last > 1 && len(batch) < c.maxBatch {
			if timer == nil {
				timer = time.NewTimer(c.linger)
			} else {
				timer.Reset(c.linger)
			}
			batch = c.fillUntil(batch, timer.C)
			timer.Stop()
		}
		c.commit(batch)
		last = len(batch)
		clear(batch) // let the bodies be collected while the next batch forms
	}
}

// fill takes whatever is queued right now, up to maxBatch.
func (c *committer) fill(batch []*pending) []*pending {
	for len(batch) < c.maxBatch {
		select {
		case p, ok := <-c.queue:
			if !ok {
				return batch
			}
			batch = append(batch, p)
		default:
			return batch
		}
	}
	return batch
}

// fillUntil waits for more events until deadline fires or the batch is full.
func (c *committer) fillUntil(batch []*pending, deadline <-chan time.Time) []*pending {
	for len(batch) < c.maxBatch {
		select {
		case p, ok := <-c.queue:
			if !ok {
				return batch
			}
			batch = append(batch, p)
		case <-deadline:
			return batch
		}
	}
	return batch
}

// commit commits batch in one transaction and answers every request. If
// the transaction fails, each request is retried alone so that one bad
// event (a job River refuses, a row the database rejects) fails only its
// own request (with every other event of that request).
func (c *committer) commit(batch []*pending) {
	results, err := c.commitTx(batch)
	if err == nil {
		for i, p := range batch {
			p.done <- results[i]
		}
		return
	}
	if len(batch) == 1 {
		batch[0].done <- commitResult{err: err}
		return
	}
	c.logger.Warn("webhook batch commit failed, retrying its events one by one",
		"batch_size", len(batch), "err", err)
	for _, p := range batch {
		res, err := c.commitTx([]*pending{p})
		if err != nil {
			p.done <- commitResult{err: err}
			continue
		}
		p.done <- res[0]
	}
}

// commitTx runs one transaction: every event's InsertEvent (which skips a
// stored dedup key), then one InsertManyTx for the jobs of the events that
// were new. It never returns partial results: either every item has its
// result or the transaction rolled back.
func (c *committer) commitTx(batch []*pending) ([]commitResult, error) {
	// Requests may have gone away; the work they started must not be
	// half-done, so the transaction does not inherit their contexts. It
	// has its own deadline instead: a commit hung on the database fails
	// (rolled back, nothing acknowledged) and its requests get a 5xx the
	// partner retries, rather than every waiting request hanging with it.
	ctx := context.Background()
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var order []item
	for _, p := range batch {
		for i := range p.events {
			order = append(order, item{p, i})
		}
	}
	if len(order) > 1 {
		// A fixed insertion order keeps two concurrent PostgreSQL batches
		// holding overlapping dedup keys from deadlocking on each other.
		slices.SortFunc(order, func(a, b item) int {
			ea, eb := a.event(), b.event()
			return cmp.Or(
				cmp.Compare(ea.TenantID, eb.TenantID),
				cmp.Compare(ea.ConnectionID, eb.ConnectionID),
				cmp.Compare(ea.DedupKey, eb.DedupKey),
			)
		})
	}
	inserted := make(map[*pending][]bool, len(batch))
	start := time.Now()
	c.txs.Add(1)
	err := c.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		clear(inserted) // a retried transaction starts over
		jobs := make([]river.InsertManyParams, 0, len(order))
		for _, it := range order {
			ok, err := tx.InsertEvent(ctx, *it.event())
			if err != nil {
				return fmt.Errorf("storing event: %w", err)
			}
			if inserted[it.p] == nil {
				inserted[it.p] = make([]bool, len(it.p.events))
			}
			inserted[it.p][it.i] = ok
			if job := it.p.jobs[it.i]; ok && job.Args != nil {
				jobs = append(jobs, job)
			}
		}
		if len(jobs) == 0 {
			return nil
		}
		if fq, ok := c.q.(FastQueue); ok && !anyUnique(jobs) {
			if _, err := fq.InsertManyFastTx(ctx, tx, jobs); err != nil {
				return fmt.Errorf("enqueueing jobs: %w", err)
			}
			return nil
		}
		if _, err := c.q.InsertManyTx(ctx, tx, jobs); err != nil {
			return fmt.Errorf("enqueueing jobs: %w", err)
		}
		return nil
	})
	c.metrics.observeCommit(len(order), time.Since(start), err)
	if err != nil {
		return nil, fmt.Errorf("webhook: committing %d events: %w", len(order), err)
	}
	results := make([]commitResult, len(batch))
	var accepted []store.Event
	for i, p := range batch {
		results[i] = commitResult{inserted: inserted[p]}
		for j, ok := range inserted[p] {
			if ok && c.dispatch != nil {
				accepted = append(accepted, p.events[j])
			}
		}
	}
	if len(accepted) > 0 {
		c.dispatch(accepted)
	}
	return results, nil
}

// commitAlone commits p in its own transaction, in the caller's goroutine:
// the mode without group commit.
func (c *committer) commitAlone(p *pending) (commitResult, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return commitResult{}, ErrClosed
	}
	res, err := c.commitTx([]*pending{p})
	if err != nil {
		return commitResult{}, err
	}
	return res[0], nil
}

// anyUnique reports whether a job asks River for uniqueness, in its
// InsertOpts or its args' defaults.
func anyUnique(jobs []river.InsertManyParams) bool {
	for _, j := range jobs {
		if j.InsertOpts != nil && isUnique(&j.InsertOpts.UniqueOpts) {
			return true
		}
		if wo, ok := j.Args.(river.JobArgsWithInsertOpts); ok {
			opts := wo.InsertOpts()
			if isUnique(&opts.UniqueOpts) {
				return true
			}
		}
	}
	return false
}

// isUnique mirrors River's UniqueOpts.isEmpty: any field set makes the job
// unique.
func isUnique(u *river.UniqueOpts) bool {
	return u.ByArgs || u.ByPeriod != 0 || u.ByQueue || u.ByState != nil || u.ExcludeKind
}
