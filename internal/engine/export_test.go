package engine

import "context"

// DeliverForTest runs one delivery job's logic exactly as the River worker
// does, so tests can steer the clock and the partners between attempts and
// read the job's fate (nil, snooze, retry, cancel) from the returned error.
func (e *Engine) DeliverForTest(ctx context.Context, args DeliverArgs, attempt int) error {
	return e.deliver(ctx, args, attempt)
}
