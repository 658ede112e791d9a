package engine

import (
	"context"

	"github.com/accordhq/accord/internal/store"
)

// DeliverForTest runs one delivery job's logic exactly as the River worker
// does, so tests can steer the clock and the partners between attempts and
// read the job's fate (nil, snooze, retry, cancel) from the returned error.
func (e *Engine) DeliverForTest(ctx context.Context, args DeliverArgs) error {
	_, err := e.deliver(ctx, args)
	return err
}

// DeliverOutcomeForTest is DeliverForTest that also returns the event's
// final outcome (empty while the delivery is not final).
func (e *Engine) DeliverOutcomeForTest(ctx context.Context, args DeliverArgs) (string, error) {
	return e.deliver(ctx, args)
}

// WriteLinkForTest writes l through the engine's group-committing link
// writer, as a delivery does after its partner write.
func (e *Engine) WriteLinkForTest(ctx context.Context, l store.Link) error {
	return e.links.write(ctx, l)
}

// LinkWriterForTest is a link writer whose committers start when the test
// says, so a test can queue writes first and have them share one batch.
type LinkWriterForTest struct{ w *linkWriter }

// NewLinkWriterForTest returns a link writer with no committer running.
func NewLinkWriterForTest(st store.Store) *LinkWriterForTest {
	return &LinkWriterForTest{w: newLinkWriter(st, 0)}
}

// Write is linkWriter.write.
func (l *LinkWriterForTest) Write(ctx context.Context, link store.Link) error {
	return l.w.write(ctx, link)
}

// Queued is how many writes wait for a committer.
func (l *LinkWriterForTest) Queued() int { return len(l.w.reqs) }

// Start starts one committer.
func (l *LinkWriterForTest) Start() {
	l.w.wg.Add(1)
	go l.w.run()
}

// Close is linkWriter.close.
func (l *LinkWriterForTest) Close() { l.w.close() }

// ErrLinkWriterStopped is what a write after close returns.
var ErrLinkWriterStopped = errLinkWriterStopped
