package syncer

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// fakeDispatcher reports a backlog the test sets, and counts how often it
// was asked.
type fakeDispatcher struct {
	waiting atomic.Int64
	asked   atomic.Int64
}

func (f *fakeDispatcher) Dispatch([]store.Event) {}

func (f *fakeDispatcher) Backlog() (int, int) {
	f.asked.Add(1)
	return int(f.waiting.Load()), 100
}

// TestRunWaitsForTheWorkersBacklog: the next page waits while the fast
// path's backlog is over a quarter full, and goes on once it drains.
func TestRunWaitsForTheWorkersBacklog(t *testing.T) {
	t.Parallel()
	f := &fakeDispatcher{}
	s := New(Deps{}, nil)
	s.UseDispatcher(f)

	f.waiting.Store(25)
	require.NoError(t, s.waitForWorkers(t.Context()), "a quarter full: no wait")

	f.waiting.Store(26)
	done := make(chan error, 1)
	go func() { done <- s.waitForWorkers(t.Context()) }()
	asked := f.asked.Load()
	require.Eventually(t, func() bool { return f.asked.Load() >= asked+3 }, 5*time.Second, time.Millisecond, "it polls the backlog")
	select {
	case <-done:
		t.Fatal("returned while the backlog was over a quarter full")
	default:
	}
	f.waiting.Store(10)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("still waiting after the backlog drained")
	}
}
