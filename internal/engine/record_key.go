package engine

import (
	"fmt"
	"strings"

	"github.com/accordhq/accord/internal/spec"
)

// recordKeyOf compiles the contract's record key for actions whose trigger
// carries src: the path of the key below src ("" when the contract keys
// src's actions by src's own id).
func recordKeyOf(c *spec.Contract, src *spec.Object) string {
	path := c.RecordKeyPath(src.Name)
	if path == "" {
		return ""
	}
	_, below, _ := strings.Cut(path, ".")
	return below
}

// sourceIDOf is the id an action's link, lock and lookups are keyed by:
// the record key's value when the contract declares one for the trigger's
// object (a subscription event then writes its customer's company), else
// the event's object id.
func sourceIDOf(ct *compiledTrigger, ca *compiledAction, objectID string, doc map[string]any) (string, error) {
	if ca.recordKey == "" {
		return objectID, nil
	}
	v, ok := spec.Get(doc, ca.recordKey)
	id := ""
	if ok && v != nil {
		id = fmt.Sprint(v)
	}
	if id == "" {
		return "", fmt.Errorf("the record key %s.%s is missing from the event's %s, so Accord cannot tell which %s.%s record it belongs to",
			ct.source.Name, ca.recordKey, ct.source.Name, ca.provider.Name, ca.target.Name)
	}
	return id, nil
}

// linkSource is the link's source object of an action: the record key's
// name for record-keyed actions, which share their target record.
func linkSource(ct *compiledTrigger, ca *compiledAction) string {
	if ca.recordKey != "" {
		return spec.RecordKeyObject
	}
	return ct.source.Name
}

// siblingsOf lists the other record-keyed actions of the contract that
// write the same kind of target as a: they share its target record, so a
// link one of them wrote is the target the others update.
func siblingsOf(c *spec.Contract, a *spec.Action, providers map[string]*spec.Provider) []string {
	var out []string
	for _, o := range c.Actions {
		if o == a || o.Provider != a.Provider || o.Object != a.Object || !recordKeyed(c, o, providers) {
			continue
		}
		out = append(out, o.Name)
	}
	return out
}

// recordKeyed reports whether action a's trigger carries an object the
// contract's record key lists.
func recordKeyed(c *spec.Contract, a *spec.Action, providers map[string]*spec.Provider) bool {
	t := c.Triggers[a.Trigger]
	if t == nil {
		return false
	}
	if t.Schedule != nil {
		return c.RecordKeyPath(t.Schedule.Object) != ""
	}
	if t.Webhook == nil {
		return false
	}
	p := providers[t.Webhook.Provider]
	if p == nil || p.Webhooks == nil {
		return false
	}
	for _, ev := range t.Webhook.Events {
		if et := p.Webhooks.Events[ev]; et != nil && c.RecordKeyPath(et.Object) != "" {
			return true
		}
	}
	return false
}
