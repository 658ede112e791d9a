package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// enrichCache holds the related objects fetched while one event is
// handled, so two actions enriching with the same customer fetch it once.
// It lives as long as one delivery of the event.
type enrichCache struct {
	mu   sync.Mutex
	docs map[string]map[string]any // object + "\x00" + id → document
}

func newEnrichCache() *enrichCache { return &enrichCache{docs: map[string]map[string]any{}} }

func (c *enrichCache) get(key string) (map[string]any, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.docs[key]
	return d, ok
}

func (c *enrichCache) put(key string, doc map[string]any) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.docs[key] = doc
}

// enrich fetches the action's related objects from the trigger's provider
// through its get endpoint, with the trigger's connection: rate-limited,
// classified and reported like any partner call. A nil result with a final
// applyResult means the action stops here (snooze, retry or record error).
func (e *Engine) enrich(ctx context.Context, in applyInput) (map[string]map[string]any, *applyResult) {
	a := in.action
	if len(a.action.Enrich) == 0 {
		return nil, nil
	}
	src := in.trigger.provider
	cn := e.connectors[src.Name]
	conn, err := e.cache.connection(ctx, in.inst.TenantID, in.event.ConnectionID)
	if err != nil {
		return nil, &applyResult{retry: fmt.Errorf("loading %s connection: %w", src.Name, err)}
	}
	out := make(map[string]map[string]any, len(a.action.Enrich))
	for i, en := range a.action.Enrich {
		obj := a.related[i]
		_, below, _ := strings.Cut(en.ID, ".")
		v, ok := spec.Get(in.doc, below)
		id := ""
		if ok && v != nil {
			id = fmt.Sprint(v)
		}
		if id == "" {
			continue // nothing to fetch: its fields read as missing
		}
		key := obj.Name + "\x00" + id
		if doc, ok := in.enriched.get(key); ok {
			out[obj.Name] = doc
			continue
		}
		if conn.State != store.ConnectionActive {
			e.metrics.retry(e.metrics.labels(in.inst, src.Name), retryPaused)
			return nil, &applyResult{snooze: e.cfg.PauseInterval}
		}
		if wait := cn.Limiter().Reserve(in.inst.TenantID, "enrich\x00"+key); wait > 0 {
			e.metrics.retry(e.metrics.labels(in.inst, src.Name), retryThrottled)
			return nil, &applyResult{snooze: wait}
		}
		auth, err := e.deps.Credentials.Authorizer(ctx, conn, src)
		if err != nil {
			r := e.authFailed(ctx, in, conn, err, err.Error())
			return nil, &r
		}
		res, err := cn.Get(ctx, connector.Call{Object: obj.Name, ID: id, Auth: auth})
		if err != nil {
			r := e.enrichFailed(ctx, in, conn, &callError{op: "enrichment " + src.Name + "." + obj.Name, ep: obj.Endpoints.Get, err: err})
			return nil, &r
		}
		doc := res.Object
		if doc == nil {
			doc = map[string]any{}
		}
		doc = jsonNumbersToFloat(doc)
		in.enriched.put(key, doc)
		out[obj.Name] = doc
	}
	return out, nil
}

// enrichFailed decides what a failed fetch of a related object does: like
// a failed write, except that throttling backs off the source provider and
// a refused sign-in pauses the source connection.
func (e *Engine) enrichFailed(ctx context.Context, in applyInput, conn store.Connection, err error) applyResult {
	src := in.trigger.provider
	return e.steer(ctx, in, conn, src, src.Name+" enrichment", err)
}

// jsonNumbersToFloat makes a fetched document look like a decoded event
// payload (numbers as float64), so mappings see one kind of number.
func jsonNumbersToFloat(doc map[string]any) map[string]any {
	var conv func(v any) any
	conv = func(v any) any {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				t[k] = conv(x)
			}
			return t
		case []any:
			for i, x := range t {
				t[i] = conv(x)
			}
			return t
		case interface{ Float64() (float64, error) }:
			if f, err := t.Float64(); err == nil {
				return f
			}
		}
		return v
	}
	return conv(doc).(map[string]any)
}
