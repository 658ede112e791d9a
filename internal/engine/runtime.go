package engine

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/accordhq/accord/internal/mapping"
	"github.com/accordhq/accord/internal/spec"
)

// Catalog is the set of providers and contracts the engine runs. It is
// read-only once built; a reload builds a new one.
type Catalog struct {
	Providers map[string]*spec.Provider
	// Contracts holds the newest loaded version of each contract: what a
	// new installation gets.
	Contracts map[string]*spec.Contract
	// Versions holds every loaded version of each contract by name, then
	// version. An installation runs the version it was installed with
	// until it is upgraded, so upgrading a pack changes no installation by
	// itself. Contracts' entries are included; Add keeps both in step.
	Versions map[string]map[string]*spec.Contract
}

// ErrContractVersionNotLoaded is returned for an installation whose pinned
// contract version is not in the catalog.
var ErrContractVersionNotLoaded = errors.New("engine: contract version not loaded")

// Add loads c beside the versions already there; the newest version (by
// spec.CompareVersions) becomes the one new installations get. Loading the
// same name and version twice from different files is an error.
func (c *Catalog) Add(ct *spec.Contract) error {
	if c.Contracts == nil {
		c.Contracts = map[string]*spec.Contract{}
	}
	if c.Versions == nil {
		c.Versions = map[string]map[string]*spec.Contract{}
	}
	vs := c.Versions[ct.Name]
	if vs == nil {
		vs = map[string]*spec.Contract{}
		c.Versions[ct.Name] = vs
	}
	if prev, dup := vs[ct.Version]; dup && prev.File != ct.File {
		return fmt.Errorf("contract %s version %s is defined in both %s and %s", ct.Name, ct.Version, prev.File, ct.File)
	}
	vs[ct.Version] = ct
	if cur := c.Contracts[ct.Name]; cur == nil || compareVersions(ct.Version, cur.Version) > 0 {
		c.Contracts[ct.Name] = ct
	}
	return nil
}

// Contract returns the contract name at version; an empty version is the
// newest.
func (c *Catalog) Contract(name, version string) (*spec.Contract, error) {
	if version == "" {
		if ct, ok := c.Contracts[name]; ok {
			return ct, nil
		}
		return nil, fmt.Errorf("contract %q: %w", name, ErrContractVersionNotLoaded)
	}
	if ct, ok := c.Versions[name][version]; ok {
		return ct, nil
	}
	if ct, ok := c.Contracts[name]; ok && ct.Version == version {
		return ct, nil // a catalog built by hand, without Versions
	}
	return nil, fmt.Errorf("contract %q version %q: %w", name, version, ErrContractVersionNotLoaded)
}

// compareVersions orders contract versions: dotted numbers compare
// numerically part by part ("1.10" > "1.9"), anything else as text.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, errA := strconv.Atoi(pa[i])
		nb, errB := strconv.Atoi(pb[i])
		if errA == nil && errB == nil {
			if na != nb {
				return cmp.Compare(na, nb)
			}
			continue
		}
		if c := strings.Compare(pa[i], pb[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(pa), len(pb))
}

// CompareVersions reports whether contract version a is older (-1), the
// same (0) or newer (1) than b.
func CompareVersions(a, b string) int { return compareVersions(a, b) }

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
	// objectPath is where the object is in a webhook's payload ("" for
	// the whole payload).
	objectPath string
	// syncType is the type of the sync's events when the trigger has a
	// schedule ("" otherwise): their payload is the object itself.
	syncType string
	// twoWay: an action of the contract writes this trigger's source
	// object (see twoWay).
	twoWay  bool
	actions []*compiledAction
	// deletes are the event types that report the object deleted: its
	// actions apply their on_delete instead of their mapping.
	deletes map[string]bool
	// deleteType is SyncDeleteType of the source object.
	deleteType string
}

type compiledAction struct {
	action   *spec.Action
	provider *spec.Provider
	target   *spec.Object
	mapper   *mapping.Mapper
	// legacyLink: the first action of its trigger writing this kind of
	// partner object, which owned the link when links were not yet keyed
	// by action (stored with action ""); it adopts such a link.
	legacyLink bool
	// recordKey is the path of the contract's record key below the
	// trigger's object ("" when keyed by the object's own id); siblings
	// are the contract's other actions writing the same kind of target,
	// whose links name the shared record's target.
	recordKey string
	siblings  []string
	// related are the enriched objects, in the action's enrich order.
	related []*spec.Object
	// adoptFrom: link source objects whose ids are this action's target
	// ids (see adoptFrom).
	adoptFrom map[string]bool
	// marker maps the delete_mark rows (on_delete: mark).
	marker *mapping.Mapper
	// watched: a trigger of the contract reads this action's target, so
	// its fields may change on that side too (conflicts, on_conflict).
	watched bool
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

func (r *runtime) contract(name, version string) (*compiledContract, error) {
	c, err := r.catalog.Contract(name, version)
	if err != nil {
		return nil, err
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
		ct, err := compileTrigger(name, t, providers)
		if err != nil {
			return nil, err
		}
		p := ct.provider
		targets := map[string]bool{}
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
			var related []*spec.Object
			for _, en := range a.Enrich {
				o := p.Objects[en.Object]
				if o == nil {
					return nil, fmt.Errorf("action %s: provider %s has no object %q to enrich with", a.Name, p.Name, en.Object)
				}
				related = append(related, o)
			}
			m, err := mapping.New(a, ct.source, target, &mapping.Config{Skip: c.TargetOwned(a), Related: related})
			if err != nil {
				return nil, fmt.Errorf("action %s: %w", a.Name, err)
			}
			kind := tp.Name + "." + target.Name
			ca := &compiledAction{action: a, provider: tp, target: target, mapper: m, related: related, recordKey: recordKeyOf(c, ct.source),
				adoptFrom: adoptFrom(c, target)}
			if a.DeletePolicy() == spec.DeleteMark {
				mark := *a
				mark.Mapping = a.DeleteMark
				if ca.marker, err = mapping.New(&mark, ct.source, target, &mapping.Config{Skip: c.TargetOwned(a), Related: related}); err != nil {
					return nil, fmt.Errorf("action %s: delete_mark: %w", a.Name, err)
				}
			}
			// Record keys came after links were keyed by action: no link
			// of theirs was ever stored without one.
			ca.legacyLink = !targets[kind] && ca.recordKey == ""
			if ca.recordKey != "" {
				ca.siblings = siblingsOf(c, a, providers)
			}
			ct.actions = append(ct.actions, ca)
			targets[kind] = true
		}
		ct.twoWay = twoWay(c, ct)
		cc.triggers = append(cc.triggers, ct)
	}
	for _, ct := range cc.triggers {
		for _, ca := range ct.actions {
			for _, other := range cc.triggers {
				ca.watched = ca.watched || (other.provider == ca.provider && other.source == ca.target)
			}
		}
	}
	return cc, nil
}

// SyncDeleteType is the type of the events a reconciliation stores for a
// record a complete listing no longer shows: deleted at the partner with
// no webhook to say so. Every trigger over the object takes it as a
// deletion; its payload is the object's id alone.
func SyncDeleteType(object string) string { return "accord.sync.deleted/" + object }

// SyncEventType is the type of the events a sync stores for each listed
// object: schedule triggers over that object match it, webhook triggers
// never do.
func SyncEventType(object string) string { return "accord.sync/" + object }

// compileTrigger resolves a trigger's source object and condition. Webhook
// events find their object inside the payload; the sync's events (a
// schedule, alone or beside webhooks) carry the listed object as their
// whole payload. With both, the webhook's condition applies to both.
func compileTrigger(name string, t *spec.Trigger, providers map[string]*spec.Provider) (*compiledTrigger, error) {
	ct := &compiledTrigger{trigger: t, events: map[string]bool{}, deletes: map[string]bool{}}
	var condition string
	if w := t.Webhook; w != nil {
		p, ok := providers[w.Provider]
		if !ok || p.Webhooks == nil {
			return nil, fmt.Errorf("trigger %s: provider %q has no webhooks", name, w.Provider)
		}
		ct.provider, ct.objectPath = p, p.Webhooks.Object
		for _, ev := range w.Events {
			et, ok := p.Webhooks.Events[ev]
			if !ok {
				return nil, fmt.Errorf("trigger %s: provider %s has no event %q", name, p.Name, ev)
			}
			ct.events[ev] = true
			ct.deletes[ev] = et.Deletes
			obj := p.Objects[et.Object]
			if obj == nil {
				return nil, fmt.Errorf("trigger %s: event %s carries unknown object %q", name, ev, et.Object)
			}
			if ct.source != nil && ct.source != obj {
				return nil, fmt.Errorf("trigger %s: events carry different objects (%s, %s)", name, ct.source.Name, obj.Name)
			}
			ct.source = obj
		}
		condition = w.Condition
	}
	if sc := t.Schedule; sc != nil {
		p, ok := providers[sc.Provider]
		if !ok {
			return nil, fmt.Errorf("trigger %s: unknown provider %q", name, sc.Provider)
		}
		obj := p.Objects[sc.Object]
		if obj == nil {
			return nil, fmt.Errorf("trigger %s: provider %s has no object %q", name, p.Name, sc.Object)
		}
		if ct.source != nil && (ct.source != obj || ct.provider != p) {
			return nil, fmt.Errorf("trigger %s: the schedule lists %s.%s, the webhooks carry %s.%s", name, p.Name, obj.Name, ct.provider.Name, ct.source.Name)
		}
		ct.provider, ct.source = p, obj
		ct.syncType = SyncEventType(obj.Name)
		ct.events[ct.syncType] = true
		if t.Webhook == nil {
			condition = sc.Condition
		}
	}
	if ct.source == nil {
		return nil, fmt.Errorf("trigger %s has neither a webhook nor a schedule", name)
	}
	ct.deleteType = SyncDeleteType(ct.source.Name)
	ct.events[ct.deleteType], ct.deletes[ct.deleteType] = true, true
	cond, err := mapping.NewCondition(ct.source, condition, 0)
	if err != nil {
		return nil, fmt.Errorf("trigger %s: %w", name, err)
	}
	ct.cond = cond
	return ct, nil
}

// objectOf returns the changed object inside an event's payload: the
// whole payload of a sync's event, the webhook's object path otherwise.
func (t *compiledTrigger) objectOf(eventType string, payload map[string]any) map[string]any {
	if t.objectPath == "" || eventType == t.syncType || eventType == t.deleteType {
		return payload
	}
	if v, ok := spec.Get(payload, t.objectPath); ok {
		if m, ok := v.(map[string]any); ok {
			return m
		}
	}
	return map[string]any{}
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
