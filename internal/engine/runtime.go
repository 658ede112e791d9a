package engine

import (
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/accordhq/accord/internal/mapping"
	"github.com/accordhq/accord/internal/spec"
)

// Catalog is the set of providers and contracts the engine runs. It is
// read-only once built; a reload builds a new one.
type Catalog struct {
	Providers map[string]*spec.Provider
	Contracts map[string]*spec.Contract
}

// compiledContract is a contract prepared for the hot path: CEL programs
// and mappers are compiled once per contract version, never per event.
type compiledContract struct {
	contract *spec.Contract
	triggers []*compiledTrigger
}

type compiledTrigger struct {
	trigger  *spec.Trigger
	provider *spec.Provider
	source   *spec.Object
	events   map[string]bool
	cond     *mapping.Condition
	actions  []*compiledAction
}

type compiledAction struct {
	action   *spec.Action
	provider *spec.Provider
	target   *spec.Object
	mapper   *mapping.Mapper
}

// runtime compiles contracts lazily and caches them by name and version.
type runtime struct {
	catalog *Catalog
	mu      sync.Mutex
	cache   map[string]*compiledContract
}

func newRuntime(c *Catalog) *runtime {
	return &runtime{catalog: c, cache: map[string]*compiledContract{}}
}

func (r *runtime) contract(name string) (*compiledContract, error) {
	c, ok := r.catalog.Contracts[name]
	if !ok {
		return nil, fmt.Errorf("contract %q is not loaded", name)
	}
	key := c.Name + "@" + c.Version
	r.mu.Lock()
	defer r.mu.Unlock()
	if cc, ok := r.cache[key]; ok {
		return cc, nil
	}
	cc, err := compileContract(c, r.catalog.Providers)
	if err != nil {
		return nil, fmt.Errorf("compiling contract %s: %w", key, err)
	}
	r.cache[key] = cc
	return cc, nil
}

func compileContract(c *spec.Contract, providers map[string]*spec.Provider) (*compiledContract, error) {
	cc := &compiledContract{contract: c}
	for _, name := range sortedTriggerNames(c) {
		t := c.Triggers[name]
		if t.Webhook == nil {
			continue // schedules are the syncer's
		}
		p, ok := providers[t.Webhook.Provider]
		if !ok || p.Webhooks == nil {
			return nil, fmt.Errorf("trigger %s: provider %q has no webhooks", name, t.Webhook.Provider)
		}
		ct := &compiledTrigger{trigger: t, provider: p, events: map[string]bool{}}
		for _, ev := range t.Webhook.Events {
			et, ok := p.Webhooks.Events[ev]
			if !ok {
				return nil, fmt.Errorf("trigger %s: provider %s has no event %q", name, p.Name, ev)
			}
			ct.events[ev] = true
			obj := p.Objects[et.Object]
			if obj == nil {
				return nil, fmt.Errorf("trigger %s: event %s carries unknown object %q", name, ev, et.Object)
			}
			if ct.source != nil && ct.source != obj {
				return nil, fmt.Errorf("trigger %s: events carry different objects (%s, %s)", name, ct.source.Name, obj.Name)
			}
			ct.source = obj
		}
		cond, err := mapping.NewCondition(ct.source, t.Webhook.Condition, 0)
		if err != nil {
			return nil, fmt.Errorf("trigger %s: %w", name, err)
		}
		ct.cond = cond
		for _, a := range c.Actions {
			if a.Trigger != name {
				continue
			}
			tp, ok := providers[a.Provider]
			if !ok {
				return nil, fmt.Errorf("action %s: unknown provider %q", a.Name, a.Provider)
			}
			target := tp.Objects[a.Object]
			if target == nil {
				return nil, fmt.Errorf("action %s: provider %s has no object %q", a.Name, a.Provider, a.Object)
			}
			m, err := mapping.New(a, ct.source, target, &mapping.Config{Skip: c.TargetOwned(a)})
			if err != nil {
				return nil, fmt.Errorf("action %s: %w", a.Name, err)
			}
			ct.actions = append(ct.actions, &compiledAction{action: a, provider: tp, target: target, mapper: m})
		}
		cc.triggers = append(cc.triggers, ct)
	}
	return cc, nil
}

// matches reports whether the trigger fires for an event of eventType
// carrying doc.
func (t *compiledTrigger) matches(eventType string, doc map[string]any) (bool, error) {
	if !t.events[eventType] {
		return false, nil
	}
	return t.cond.Match(doc)
}

func sortedTriggerNames(c *spec.Contract) []string {
	return slices.Sorted(maps.Keys(c.Triggers))
}
