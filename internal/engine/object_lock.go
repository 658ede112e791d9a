package engine

import (
	"context"
	"sync"
)

// objectLocks serialises work on one (installation, object) inside the
// process: at most one write to a partner object is in flight, and versions
// are applied in the order the lock is taken (older ones then find a newer
// watermark and skip). A waiter blocks with its context, not a worker slot
// spin.
type objectLocks struct {
	mu    sync.Mutex
	locks map[string]*objectLock
}

type objectLock struct {
	ch      chan struct{} // holds one token while unlocked
	waiters int
}

func newObjectLocks() *objectLocks { return &objectLocks{locks: map[string]*objectLock{}} }

// lock takes the lock on key or returns ctx's error.
func (l *objectLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	l.mu.Lock()
	ol := l.locks[key]
	if ol == nil {
		ol = &objectLock{ch: make(chan struct{}, 1)}
		ol.ch <- struct{}{}
		l.locks[key] = ol
	}
	ol.waiters++
	l.mu.Unlock()

	select {
	case <-ol.ch:
	case <-ctx.Done():
		l.release(key, ol, false)
		return nil, ctx.Err()
	}
	return func() { l.release(key, ol, true) }, nil
}

func (l *objectLocks) release(key string, ol *objectLock, held bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if held {
		ol.ch <- struct{}{}
	}
	ol.waiters--
	if ol.waiters == 0 {
		delete(l.locks, key)
	}
}
