package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// ClassDrift: a field Accord wrote was changed on the side that does not
// own it (two-way contracts with on_drift: report).
const ClassDrift = "drift"

// twoWay reports whether some action of c writes the trigger's own source
// object: changes to it then come back, and the links of that other
// direction tell which record they belong to and what Accord wrote there.
func twoWay(c *spec.Contract, t *compiledTrigger) bool {
	for _, a := range c.Actions {
		if a.Provider == t.provider.Name && a.Object == t.source.Name {
			return true
		}
	}
	return false
}

// adoptFrom is the set of link source objects whose source ids are ids of
// the action's target object: the action's target name, and the record
// key's object when the target object is keyed by its own id.
func adoptFrom(c *spec.Contract, target *spec.Object) map[string]bool {
	return map[string]bool{target.Name: true, spec.RecordKeyObject: keyedByOwnID(c, target)}
}

// AdoptsFrom reports whether a link from sourceObject names, by its source
// id, an object of kind target: the pairing a two-way contract's other
// direction reads (the syncer's test sync shows it before the first write).
func AdoptsFrom(c *spec.Contract, target *spec.Object, sourceObject string) bool {
	return sourceObject == target.Name || (sourceObject == spec.RecordKeyObject && keyedByOwnID(c, target))
}

// LinkSourceOf is the source object the links of an action triggered by
// object o record, when their source id is o's own id: o's name, or the
// record key's object when o is keyed by its id. ok is false when the
// links are keyed by another field (a record key such as
// subscription.customer), which a listing of o cannot be checked against.
func LinkSourceOf(c *spec.Contract, o *spec.Object) (source string, ok bool) {
	switch {
	case c.RecordKeyPath(o.Name) == "":
		return o.Name, true
	case keyedByOwnID(c, o):
		return spec.RecordKeyObject, true
	}
	return "", false
}

func keyedByOwnID(c *spec.Contract, o *spec.Object) bool {
	return c.RecordKeyPath(o.Name) == o.Name+"."+o.IDField()
}

// reverseTarget finds, for an action of a two-way contract with no link of
// its own yet, the partner object the other direction already pairs with
// this record: its link's source is the object this action writes. That
// link table is the id mapping between the two sides; without it the first
// change coming back would create a second record.
func (e *Engine) reverseTarget(ctx context.Context, in applyInput) (string, error) {
	links, err := e.deps.Store.ListLinksByTarget(ctx, in.inst.TenantID, in.inst.ID,
		in.trigger.provider.Name+"."+in.trigger.source.Name, in.event.ObjectID)
	if err != nil {
		return "", err
	}
	for _, l := range links {
		if in.action.adoptFrom[l.SourceObject] && l.SourceID != "" && l.TargetID != "" {
			return l.SourceID, nil
		}
	}
	return "", nil
}

// checkDrift compares a changed object of a two-way contract with what
// Accord last wrote to it: a written field that now holds another value
// was changed on the side that does not own it (the other direction's
// source owns what it writes). It is reported as a drift record error, or
// reverted by marking the link for the settlement job, which writes the
// owner's value back.
//
// Each field is compared with its newest write only, when several actions
// write one object (a rename reaches the account through one action while
// another's link still holds the old name). Each link is read under its
// object's lock, so a write in flight (its partner call made, its link not
// yet committed) finishes first and Accord's own change coming back is
// compared with what it wrote. And only observations newer than the write
// count: a page listed before Accord's write shows the old value.
//
// A check that cannot read its links, or cannot mark a revert, fails the
// delivery so the event is retried: the unchanged object is not listed
// again, so a skipped check would never be made.
func (e *Engine) checkDrift(ctx context.Context, inst store.Installation, c *spec.Contract, t *compiledTrigger, ev store.Event, doc map[string]any, args DeliverArgs) error {
	links, err := e.deps.Store.ListLinksByTarget(ctx, inst.TenantID, inst.ID, t.provider.Name+"."+t.source.Name, ev.ObjectID)
	if err == nil {
		for i, l := range links {
			if links[i], err = e.settledLink(ctx, l.LinkKey); err != nil {
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("checking %s %s for drift: %w", t.source.Name, ev.ObjectID, err)
	}
	byLink := map[store.LinkKey][]Drift{}
	var order []store.LinkKey
	for _, d := range Drifted(doc, NewestWritten(links), ev.ReceivedAt) {
		if byLink[d.Key] == nil {
			order = append(order, d.Key)
		}
		byLink[d.Key] = append(byLink[d.Key], d)
	}
	for _, key := range order {
		drifted := byLink[key]
		for _, d := range drifted {
			e.metrics.drift(t.provider.Name, t.source.Name, d.Path, c.OnDrift == spec.DriftRevert)
		}
		what := describeDrift(drifted)
		if c.OnDrift == spec.DriftRevert {
			if err := e.markForRevert(ctx, key, doc, t.provider); err != nil {
				return fmt.Errorf("marking %s %s to be written back: %w", t.source.Name, ev.ObjectID, err)
			}
			e.deps.Logger.InfoContext(ctx, "drift reverted: the owner's values are written back", "tenant_id", inst.TenantID,
				"installation_id", inst.ID, "object", t.provider.Name+"."+t.source.Name, "object_id", ev.ObjectID, "fields", what)
			continue
		}
		in := applyInput{event: ev, inst: inst, contract: c, trigger: t, args: args}
		msg := fmt.Sprintf("%s %s %s was changed in %s where the contract does not let it own %s: %s",
			providerTitle(t.provider), t.source.Name, ev.ObjectID, providerTitle(t.provider), fieldWord(drifted), what)
		remedy := "Change these fields on the side that owns them (the contract's source_of_truth); Accord writes the owner's value at its next change. To have Accord write it back at once, set on_drift: revert in the contract."
		e.recordError(ctx, in, ClassDrift, msg, remedy)
	}
	return nil
}

// settledLink reads a link under its object's lock and lease: a write of
// it in progress has committed by then.
func (e *Engine) settledLink(ctx context.Context, key store.LinkKey) (store.Link, error) {
	release, err := e.holdObject(ctx, key)
	if err != nil {
		return store.Link{}, err
	}
	defer release()
	return e.deps.Store.GetLink(ctx, key)
}

// holdObject takes the object's in-process lock (waiting at most
// LockWait) and its cross-process lease, as a write does, for work that
// must not interleave with a write of it; release gives both back.
func (e *Engine) holdObject(ctx context.Context, key store.LinkKey) (release func(), err error) {
	lockCtx, cancel := context.WithTimeout(ctx, e.cfg.LockWait)
	unlock, err := e.locks.lock(lockCtx, lockKey(key))
	cancel()
	if err != nil {
		return nil, fmt.Errorf("waiting for a write of the object: %w", err)
	}
	lease, ok, err := e.leaseObject(ctx, key)
	if err != nil || !ok {
		unlock()
		if err == nil {
			err = errors.New("the object is being written in another process")
		}
		return nil, err
	}
	return func() { lease.release(); unlock() }, nil
}

// Written is the newest value Accord wrote to one field of a partner
// object, when, and by which link.
type Written struct {
	Value string
	At    time.Time
	Key   store.LinkKey
}

// NewestWritten collects, per field (dotted path), the newest value the
// links wrote, as text.
func NewestWritten(links []store.Link) map[string]Written {
	out := map[string]Written{}
	for _, l := range links {
		if l.Uncertain || len(l.Fields) == 0 || l.TargetID == "" {
			continue
		}
		var w map[string]any
		if err := json.Unmarshal(l.Fields, &w); err != nil {
			continue
		}
		walkLeaves("", w, func(path string, v any) {
			if cur, ok := out[path]; !ok || l.UpdatedAt.After(cur.At) {
				out[path] = Written{Value: asText(v), At: l.UpdatedAt, Key: l.LinkKey}
			}
		})
	}
	return out
}

// Drifted compares an object with the newest writes of its fields: a field
// the object shows with another value, written before seenAt (zero: any
// time), drifted. A field the object does not show is not compared.
func Drifted(doc map[string]any, newest map[string]Written, seenAt time.Time) []Drift {
	var out []Drift
	for path, w := range newest {
		if !seenAt.IsZero() && !seenAt.After(w.At) {
			continue
		}
		cur, ok := spec.Get(doc, path)
		if !ok {
			continue
		}
		if now := asText(cur); now != w.Value {
			out = append(out, Drift{Path: path, Written: w.Value, Now: now, Key: w.Key})
		}
	}
	slices.SortFunc(out, func(a, b Drift) int { return strings.Compare(a.Path, b.Path) })
	return out
}

func walkLeaves(prefix string, m map[string]any, fn func(path string, v any)) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			walkLeaves(prefix+k+".", sub, fn)
			continue
		}
		fn(prefix+k, v)
	}
}

// RevertDrift marks a link whose partner object (doc, as listed from p)
// drifted from what Accord wrote, so the settlement job writes the
// owner's values back (reconciliation with on_drift: revert).
func (e *Engine) RevertDrift(ctx context.Context, key store.LinkKey, doc map[string]any, p *spec.Provider) error {
	return e.markForRevert(ctx, key, doc, p)
}

// markForRevert marks the link due for settlement at once, so the job
// re-sends what it holds (the owner's values). It holds the object's lock
// and lease, as a write does, and looks again under them: a write of the
// same object racing this one (an echo advancing the link) would
// otherwise clear the mark on a stale read.
func (e *Engine) markForRevert(ctx context.Context, key store.LinkKey, doc map[string]any, p *spec.Provider) error {
	release, err := e.holdObject(ctx, key)
	if err != nil {
		return err
	}
	defer release()
	cur, err := e.deps.Store.GetLink(ctx, key)
	if err != nil {
		return err
	}
	if len(DriftedFields(doc, cur.Fields)) == 0 {
		return nil // written meanwhile: nothing to revert
	}
	return e.deps.Store.MarkLinkUncertain(ctx, key, e.deps.Now().Add(-e.answerWindow(p)-time.Second))
}

// Drift is one written field that now holds another value, and the link
// that wrote it.
type Drift struct {
	Path, Written, Now string
	Key                store.LinkKey
}

// DriftedFields compares one link's written fields (leaf by leaf) with
// the object's current values, as text: partners often return numbers as
// strings (HubSpot's properties), which is not drift. A field the object
// does not show is not compared.
func DriftedFields(doc map[string]any, written json.RawMessage) []Drift {
	return Drifted(doc, NewestWritten([]store.Link{{TargetID: "-", Fields: written}}), time.Time{})
}

func asText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func describeDrift(ds []Drift) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%s is %q, Accord wrote %q", d.Path, d.Now, d.Written)
	}
	return strings.Join(parts, "; ")
}

func fieldWord(ds []Drift) string {
	if len(ds) == 1 {
		return "it"
	}
	return "them"
}

// ReadRefused handles a partner refusing a read the syncer made with
// conn (a list page): a refused sign-in or a missing scope pauses the
// connection exactly as a refused write does (needs_reconnect or
// missing_scopes, the installation's one record error for the outage, the
// reconnect prompt), so reads and writes wait together and nothing is
// lost: the sync resumes at its cursor once the account is reconnected.
// It reports whether err was such a refusal.
func (e *Engine) ReadRefused(ctx context.Context, inst store.Installation, conn store.Connection, p *spec.Provider, object string, err error) bool {
	var pe *connector.PartnerError
	if !errors.As(err, &pe) || (pe.Class != spec.ClassAuth && pe.Class != spec.ClassPermission) {
		return errors.Is(err, connector.ErrNeedsReconnect)
	}
	c, cerr := e.deps.Catalog.Contract(inst.Contract, inst.ContractVersion)
	if cerr != nil {
		return false
	}
	in := applyInput{inst: inst, contract: c, action: &compiledAction{provider: p}, trigger: &compiledTrigger{source: p.Objects[object]}}
	if in.trigger.source == nil {
		in.trigger.source = &spec.Object{Name: object}
	}
	msg := "reading " + object + " for the sync: " + partnerMessage(err, pe)
	if pe.Class == spec.ClassPermission {
		e.pause(ctx, in, conn, store.ConnectionMissingScopes, ClassPermission, msg, false)
	} else {
		e.pause(ctx, in, conn, store.ConnectionNeedsReconnect, ClassAuth, msg, false)
	}
	return true
}

// applyMerges moves the links of objects merged into this one (the
// object's merged_ids field) onto it: links to a merged-away object point
// to the survivor, and links from it are deleted, so no link names an
// object the partner no longer has (which a later write would recreate).
// It is idempotent: a merge already applied finds nothing to move.
func (e *Engine) applyMerges(ctx context.Context, inst store.Installation, t *compiledTrigger, ev store.Event, doc map[string]any) error {
	v, ok := spec.Get(doc, t.source.MergedIDs)
	if !ok || v == nil {
		return nil
	}
	var ids []string
	switch x := v.(type) {
	case string:
		ids = strings.FieldsFunc(x, func(r rune) bool { return r == ';' || r == ',' || r == ' ' })
	case []any:
		for _, it := range x {
			ids = append(ids, asText(it))
		}
	}
	target := t.provider.Name + "." + t.source.Name
	for _, from := range ids {
		if from == "" || from == ev.ObjectID {
			continue
		}
		moved, dropped, err := e.mergeUnderLocks(ctx, inst, target, t.source.Name, from, ev.ObjectID)
		if err != nil {
			return fmt.Errorf("moving the links of %s %s merged into %s: %w", target, from, ev.ObjectID, err)
		}
		if moved+dropped > 0 {
			e.metrics.merge(t.provider.Name, t.source.Name)
			e.deps.Logger.InfoContext(ctx, "merged partner object: its links now name the survivor", "tenant_id", inst.TenantID,
				"installation_id", inst.ID, "object", target, "merged", from, "survivor", ev.ObjectID, "links_moved", moved, "links_dropped", dropped)
		}
	}
	return nil
}

// mergeUnderLocks moves the links of a merged-away object while holding
// the object locks (and leases) of the links it changes, in key order: a
// write of one of them in flight (an echo advancing its watermark on a
// read from before the merge) would otherwise put the merged-away id back.
func (e *Engine) mergeUnderLocks(ctx context.Context, inst store.Installation, target, sourceObject, from, to string) (int, int, error) {
	links, err := e.deps.Store.ListLinksByTarget(ctx, inst.TenantID, inst.ID, target, from)
	if err != nil {
		return 0, 0, err
	}
	keys := map[string]store.LinkKey{}
	for _, l := range links {
		keys[lockKey(l.LinkKey)] = l.LinkKey
	}
	for _, name := range slices.Sorted(maps.Keys(keys)) {
		release, err := e.holdObject(ctx, keys[name])
		if err != nil {
			return 0, 0, fmt.Errorf("a merged object's link: %w", err)
		}
		defer release()
	}
	return e.deps.Store.MergeLinks(ctx, inst.TenantID, inst.ID, target, sourceObject, from, to)
}
