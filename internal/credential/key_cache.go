package credential

import (
	"container/list"
	"crypto/cipher"
	"sync"
)

// keyCache is a bounded LRU of unwrapped tenant ciphers: every Open would
// otherwise cost a store read and a KMS call (a network round trip with a
// cloud KMS).
type keyCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front: most recently used; values are *cacheEntry
	items map[string]*list.Element
}

type cacheEntry struct {
	tenantID string
	aead     cipher.AEAD
}

func newKeyCache(max int) *keyCache {
	return &keyCache{max: max, order: list.New(), items: make(map[string]*list.Element)}
}

func (c *keyCache) get(tenantID string) (cipher.AEAD, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[tenantID]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheEntry).aead, true
}

func (c *keyCache) put(tenantID string, aead cipher.AEAD) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[tenantID]; ok {
		el.Value.(*cacheEntry).aead = aead
		c.order.MoveToFront(el)
		return
	}
	c.items[tenantID] = c.order.PushFront(&cacheEntry{tenantID: tenantID, aead: aead})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).tenantID)
	}
}

func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
