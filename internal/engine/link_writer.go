package engine

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/accordhq/accord/internal/store"
)

// linkWriter group-commits link writes: concurrent actions that finished
// their partner write at about the same time share one transaction (one
// fsync on SQLite) instead of paying one each. Each writer still waits for
// its own commit before it releases the object, so the next version always
// reads the link it left.
type linkWriter struct {
	st       store.Store
	reqs     chan *linkReq
	maxBatch int
	wg       sync.WaitGroup
	stopOnce sync.Once
	stop     chan struct{}
	// exited closes once every committer has returned: a write queued
	// after that will never be taken.
	exited chan struct{}
}

type linkReq struct {
	link store.Link
	done chan error
}

// errLinkWriterStopped answers writes after stop; the job retries them.
var errLinkWriterStopped = errors.New("engine: link writer stopped")

func newLinkWriter(st store.Store, committers int) *linkWriter {
	w := &linkWriter{st: st, reqs: make(chan *linkReq, 4096), maxBatch: 256, stop: make(chan struct{}), exited: make(chan struct{})}
	for range committers {
		w.wg.Add(1)
		go w.run()
	}
	return w
}

func (w *linkWriter) write(ctx context.Context, l store.Link) error {
	req := &linkReq{link: l, done: make(chan error, 1)}
	select {
	case w.reqs <- req:
	case <-w.stop:
		return errLinkWriterStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued the write happens; wait for it whatever ctx says, so a
	// caller never releases the object with its link half done. The one
	// exception: queued as the writer stopped, it may never be taken.
	select {
	case err := <-req.done:
		return err
	case <-w.exited:
		select {
		case err := <-req.done:
			return err
		default:
			return errLinkWriterStopped
		}
	}
}

func (w *linkWriter) close() {
	w.stopOnce.Do(func() {
		close(w.stop)
		w.wg.Wait()
		close(w.exited)
	})
	<-w.exited
}

func (w *linkWriter) run() {
	defer w.wg.Done()
	batch := make([]*linkReq, 0, w.maxBatch)
	for {
		var first *linkReq
		select {
		case first = <-w.reqs:
		case <-w.stop:
			// Drain what was queued before stop so no writer waits forever.
			for {
				select {
				case r := <-w.reqs:
					w.commit([]*linkReq{r})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < w.maxBatch {
			select {
			case r := <-w.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		w.commit(batch)
	}
}

// linkCommitTimeout bounds one group commit: a database that stops
// answering fails the waiting writes (their jobs retry) instead of holding
// their objects forever.
const linkCommitTimeout = 10 * time.Second

func (w *linkWriter) commit(batch []*linkReq) {
	ctx, cancel := context.WithTimeout(context.Background(), linkCommitTimeout)
	defer cancel()
	err := w.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		for _, r := range batch {
			if err := tx.UpsertLink(ctx, r.link); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(batch) == 1 {
		for _, r := range batch {
			r.done <- err
		}
		return
	}
	// One bad link must not fail its neighbours: write them one by one.
	for _, r := range batch {
		r.done <- w.st.UpsertLink(ctx, r.link)
	}
}
