package webhook

import (
	"context"
	"sync"
	"time"

	"github.com/accordhq/accord/internal/store"
)

// connectionCache keeps recently looked-up connections for a short TTL: a
// partner sending thousands of webhooks a second to one connection costs
// one store read every few seconds instead of one per request. Only found
// connections are kept, so a connection created a moment after a 404 is
// served at once. When full, an arbitrary entry goes (Go's map order is
// random enough for that, and it costs nothing to track recency).
type connectionCache struct {
	lookup func(ctx context.Context, id string) (store.Connection, error)
	now    func() time.Time
	ttl    time.Duration
	max    int

	mu      sync.RWMutex
	entries map[string]cachedConnection
}

type cachedConnection struct {
	conn    store.Connection
	expires time.Time
}

func newConnectionCache(lookup func(ctx context.Context, id string) (store.Connection, error), now func() time.Time, ttl time.Duration, max int) *connectionCache {
	return &connectionCache{lookup: lookup, now: now, ttl: ttl, max: max, entries: map[string]cachedConnection{}}
}

// get returns the connection with id, from the cache while it is fresh.
// Errors are the store's (store.ErrNotFound for an unknown id).
func (c *connectionCache) get(ctx context.Context, id string) (store.Connection, error) {
	if c.ttl <= 0 || c.max <= 0 {
		return c.lookup(ctx, id)
	}
	now := c.now()
	c.mu.RLock()
	e, ok := c.entries[id]
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.conn, nil
	}
	conn, err := c.lookup(ctx, id)
	if err != nil {
		return store.Connection{}, err
	}
	c.mu.Lock()
	if _, present := c.entries[id]; !present && len(c.entries) >= c.max {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[id] = cachedConnection{conn: conn, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return conn, nil
}

// forget drops id, so the next request reads the connection afresh.
func (c *connectionCache) forget(id string) {
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
}
