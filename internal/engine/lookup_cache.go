package engine

import (
	"context"
	"sync"
	"time"

	"github.com/accordhq/accord/internal/store"
)

// lookupCache keeps connections and a connection's installations for a
// moment: every event reads them, and they change rarely. A stale view
// lasts at most ttl and is harmless: a write through a connection paused a
// moment ago meets the partner's refusal again and pause() (which re-reads
// under a lock) files nothing twice. An empty installation list is never
// cached, so an installation created just before its first event is seen.
type lookupCache struct {
	st  store.Store
	now func() time.Time
	ttl time.Duration

	mu       sync.Mutex
	conns    map[string]cachedConn
	installs map[string]cachedInstalls
}

type cachedConn struct {
	c       store.Connection
	expires time.Time
}

type cachedInstalls struct {
	list    []store.Installation
	expires time.Time
}

// maxCached bounds each map; past it the cache is cleared rather than
// tracked per entry, which is enough for a cache this cheap to refill.
const maxCached = 50_000

func newLookupCache(st store.Store, now func() time.Time, ttl time.Duration) *lookupCache {
	return &lookupCache{st: st, now: now, ttl: ttl, conns: map[string]cachedConn{}, installs: map[string]cachedInstalls{}}
}

func (c *lookupCache) connection(ctx context.Context, tenantID, id string) (store.Connection, error) {
	key := tenantID + "\x00" + id
	now := c.now()
	c.mu.Lock()
	if e, ok := c.conns[key]; ok && now.Before(e.expires) {
		c.mu.Unlock()
		return e.c, nil
	}
	c.mu.Unlock()
	conn, err := c.st.GetConnection(ctx, tenantID, id)
	if err != nil {
		return conn, err
	}
	c.mu.Lock()
	if len(c.conns) >= maxCached {
		clear(c.conns)
	}
	c.conns[key] = cachedConn{c: conn, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return conn, nil
}

func (c *lookupCache) forgetConnection(tenantID, id string) {
	c.mu.Lock()
	delete(c.conns, tenantID+"\x00"+id)
	c.mu.Unlock()
}

func (c *lookupCache) installations(ctx context.Context, tenantID, connectionID string) ([]store.Installation, error) {
	key := tenantID + "\x00" + connectionID
	now := c.now()
	c.mu.Lock()
	if e, ok := c.installs[key]; ok && now.Before(e.expires) {
		c.mu.Unlock()
		return e.list, nil
	}
	c.mu.Unlock()
	list, err := c.st.ListInstallationsByConnection(ctx, tenantID, connectionID)
	if err != nil || len(list) == 0 {
		return list, err
	}
	c.mu.Lock()
	if len(c.installs) >= maxCached {
		clear(c.installs)
	}
	c.installs[key] = cachedInstalls{list: list, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return list, nil
}
