package e2e

import (
	"context"
	"testing"
	"time"
)

// untilStalled returns a context that ends only when probe's answer has
// not changed for stall: a wait bounded by progress, not by how fast this
// machine is today. A loaded machine slows the run down; only a system
// that stopped moving fails it.
func untilStalled(t *testing.T, stall time.Duration, probe func() string) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	go func() {
		last, since := probe(), time.Now()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if cur := probe(); cur != last {
				last, since = cur, time.Now()
				continue
			}
			if time.Since(since) >= stall {
				t.Logf("no progress for %v (state %s)", stall, last)
				cancel()
				return
			}
		}
	}()
	return ctx
}
