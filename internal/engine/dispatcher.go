package engine

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/store"
)

// JobInserter queues jobs inside a store transaction; *queue.Queue is one.
type JobInserter interface {
	InsertManyTx(ctx context.Context, tx store.Tx, params []river.InsertManyParams) ([]int64, error)
}

// DispatcherConfig tunes the fast path. Zero values take the defaults.
type DispatcherConfig struct {
	// Workers is how many events are delivered at once. Default 256.
	Workers int
	// Backlog is how many accepted events may wait for a worker; past it
	// events stay pending for the sweeper. Default 8192.
	Backlog int
	// RetryDelay is when a transient failure is tried again, by the
	// queue. Default 1s.
	RetryDelay time.Duration
}

// Dispatcher is the fast path from ingress to partner: events the ingress
// has just committed (state pending) are delivered in this process at once,
// without a round trip through the job queue. What the fast path cannot
// finish is handed to the queue in one transaction with the event's state
// (queued), with the delay the failure asked for; what it never gets to (a
// crash, a full backlog) the sweeper queues. Either way an acknowledged
// event is delivered, and delivering one twice is harmless (link
// watermarks, idempotency keys).
type Dispatcher struct {
	// base is every delivery's parent: Close cancels it when its deadline
	// passes, so shutdown never waits out a slow partner.
	base       context.Context
	cancelBase context.CancelFunc
	e          *Engine
	cfg        DispatcherConfig
	ch         chan store.Event
	wg         sync.WaitGroup
	done       *stateMarker
	stop       chan struct{}
	once       sync.Once
	drops      prometheus.Counter
	fast       *prometheus.CounterVec
}

// NewDispatcher starts the fast path's workers. The engine must have a
// queue (UseQueue) for the hand-offs.
func (e *Engine) NewDispatcher(cfg *DispatcherConfig) *Dispatcher {
	c := DispatcherConfig{}
	if cfg != nil {
		c = *cfg
	}
	if c.Workers <= 0 {
		c.Workers = 256
	}
	if c.Backlog <= 0 {
		c.Backlog = 8192
	}
	if c.RetryDelay <= 0 {
		c.RetryDelay = time.Second
	}
	base, cancelBase := context.WithCancel(context.Background())
	d := &Dispatcher{
		base: base, cancelBase: cancelBase,
		e: e, cfg: c, ch: make(chan store.Event, c.Backlog), stop: make(chan struct{}),
		done: newStateMarker(e.deps.Store, store.EventDone, e.deps.Logger),
		drops: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "accord_fast_path_overflow_total",
			Help: "Accepted events left to the sweeper because the in-process backlog was full.",
		}),
		fast: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "accord_fast_path_events_total",
			Help: "Events taken by the in-process fast path, by result: delivered, handed_off (to the queue), dropped (left to the sweeper).",
		}, []string{"result"}),
	}
	if e.deps.Registerer != nil {
		_ = e.deps.Registerer.Register(d.drops)
		_ = e.deps.Registerer.Register(d.fast)
	}
	for range c.Workers {
		d.wg.Add(1)
		go d.work()
	}
	return d
}

// Dispatch hands committed events to the workers without blocking: an
// event that does not fit in the backlog stays pending for the sweeper.
func (d *Dispatcher) Dispatch(events []store.Event) {
	for _, ev := range events {
		select {
		case <-d.stop:
			return
		default:
		}
		select {
		case d.ch <- ev:
		default:
			d.drops.Inc()
			d.fast.WithLabelValues("dropped").Inc()
		}
	}
}

// Backlog is how many dispatched events wait for a worker, and how many
// may: a producer that can wait (a sync run) stays well below capacity, so
// its events are not left to the sweeper.
func (d *Dispatcher) Backlog() (waiting, capacity int) { return len(d.ch), cap(d.ch) }

// Close lets the workers finish the events they hold until ctx ends, then
// cancels what is still in flight; the backlog and the cancelled events
// stay pending for the sweeper (the next start's, or another process's).
// It records what was delivered. Safe to call more than once.
func (d *Dispatcher) Close(ctx context.Context) {
	d.once.Do(func() { close(d.stop) })
	idle := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(idle)
	}()
	select {
	case <-idle:
	case <-ctx.Done():
		d.cancelBase()
		<-idle
	}
	d.cancelBase()
	d.done.close()
}

func (d *Dispatcher) work() {
	defer d.wg.Done()
	for {
		select {
		case <-d.stop:
			return
		case ev := <-d.ch:
			d.deliver(ev)
		}
	}
}

func (d *Dispatcher) deliver(ev store.Event) {
	ctx, cancel := context.WithTimeout(d.base, d.e.cfg.JobTimeout)
	defer cancel()
	args := argsOf(ev)
	outcome, err := d.e.deliverEvent(ctx, ev, args)
	var snooze *river.JobSnoozeError
	var cancelErr *river.JobCancelError
	switch {
	case err == nil, errors.As(err, &cancelErr):
		d.done.add(store.EventRef{TenantID: ev.TenantID, ID: ev.ID, Outcome: outcome})
		d.fast.WithLabelValues("delivered").Inc()
	case d.base.Err() != nil:
		// Shutting down past its deadline: the event stays pending and the
		// sweeper queues it; handing off now could outlast the deadline.
		d.fast.WithLabelValues("dropped").Inc()
	case errors.As(err, &snooze):
		d.handOff(ev, args, snooze.Duration)
	default:
		d.handOff(ev, args, d.cfg.RetryDelay)
	}
}

// handOff queues the event's job to run after delay and marks the event
// queued, in one transaction. If that fails the event stays pending and the
// sweeper queues it later: nothing is lost either way.
func (d *Dispatcher) handOff(ev store.Event, args DeliverArgs, delay time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts := args.InsertOpts()
	opts.ScheduledAt = d.e.deps.Now().Add(delay)
	err := d.e.deps.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := d.e.jobs.InsertManyTx(ctx, tx, []river.InsertManyParams{{Args: args, InsertOpts: &opts}}); err != nil {
			return err
		}
		return tx.SetEventsState(ctx, []store.EventRef{{TenantID: ev.TenantID, ID: ev.ID}}, store.EventQueued)
	})
	if err != nil {
		d.e.deps.Logger.WarnContext(ctx, "handing event to the queue failed; the sweeper will", "tenant_id", ev.TenantID, "event_id", ev.ID, "err", err)
		return
	}
	d.fast.WithLabelValues("handed_off").Inc()
}

// stateMarker batches event state updates that no guarantee waits on
// (marking delivered events done): losing one only means the sweeper
// queues an event whose re-delivery does nothing.
type stateMarker struct {
	st     store.Store
	state  store.EventState
	logger interface {
		Warn(msg string, args ...any)
	}
	ch       chan store.EventRef
	quit     chan struct{}
	done     chan struct{}
	quitOnce sync.Once
}

func newStateMarker(st store.Store, state store.EventState, logger interface{ Warn(string, ...any) }) *stateMarker {
	m := &stateMarker{st: st, state: state, logger: logger, ch: make(chan store.EventRef, 8192), quit: make(chan struct{}), done: make(chan struct{})}
	go m.run()
	return m
}

func (m *stateMarker) add(ref store.EventRef) {
	select {
	case m.ch <- ref:
	default:
		m.flush([]store.EventRef{ref})
	}
}

func (m *stateMarker) close() {
	m.quitOnce.Do(func() { close(m.quit) })
	<-m.done
}

func (m *stateMarker) run() {
	defer close(m.done)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var batch []store.EventRef
	for {
		select {
		case ref := <-m.ch:
			batch = append(batch, ref)
			if len(batch) >= 512 {
				m.flush(batch)
				batch = batch[:0]
			}
		case <-t.C:
			if len(batch) > 0 {
				m.flush(batch)
				batch = batch[:0]
			}
		case <-m.quit:
			for {
				select {
				case ref := <-m.ch:
					batch = append(batch, ref)
				default:
					if len(batch) > 0 {
						m.flush(batch)
					}
					return
				}
			}
		}
	}
}

func (m *stateMarker) flush(refs []store.EventRef) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.st.SetEventsState(ctx, refs, m.state); err != nil {
		m.logger.Warn("recording event states failed; the sweeper will re-queue them harmlessly", "events", len(refs), "err", err)
	}
}
