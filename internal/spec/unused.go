package spec

import (
	"fmt"
)

// unusedWarnings lists what a bundle's providers declare but none of its
// contracts use: webhook events no trigger listens to and objects nothing
// reads or writes. They are warnings: a provider manifest may describe
// more than one pack needs, but a typo (customer.update for
// customer.updated) shows up here first.
func unusedWarnings(b *Bundle) Diagnostics {
	if len(b.Contracts) == 0 {
		return nil
	}
	events := map[string]bool{}
	objects := map[string]bool{}
	for _, c := range b.Contracts {
		for _, t := range c.Triggers {
			if t == nil {
				continue
			}
			if w := t.Webhook; w != nil {
				for _, ev := range w.Events {
					events[w.Provider+"\x00"+ev] = true
					if p := b.Providers[w.Provider]; p != nil && p.Webhooks != nil && p.Webhooks.Events[ev] != nil {
						objects[w.Provider+"."+p.Webhooks.Events[ev].Object] = true
					}
				}
			}
			if s := t.Schedule; s != nil {
				objects[s.Provider+"."+s.Object] = true
			}
		}
		for _, a := range c.Actions {
			if a == nil {
				continue
			}
			objects[a.Provider+"."+a.Object] = true
			if t := c.Triggers[a.Trigger]; t != nil && t.Webhook != nil {
				for _, en := range a.Enrich {
					if en != nil {
						objects[t.Webhook.Provider+"."+en.Object] = true
					}
				}
			}
		}
		for _, o := range c.SourceOfTruth {
			if o != nil {
				objects[o.Object] = true
			}
		}
	}
	var out Diagnostics
	for _, pname := range sortedKeys(b.Providers) {
		p := b.Providers[pname]
		if p.Webhooks != nil {
			for _, ev := range sortedKeys(p.Webhooks.Events) {
				if !events[pname+"\x00"+ev] {
					pos := p.Webhooks.Events[ev].Meta.Pos
					out = append(out, Diagnostic{File: p.Meta.File, Line: pos.Line, Col: pos.Col, Warning: true,
						Message: fmt.Sprintf("event %s is declared but no trigger listens to it", ev)})
				}
			}
		}
		for _, oname := range sortedKeys(p.Objects) {
			if !objects[pname+"."+oname] {
				pos := p.Objects[oname].Meta.Pos
				out = append(out, Diagnostic{File: p.Meta.File, Line: pos.Line, Col: pos.Col, Warning: true,
					Message: fmt.Sprintf("object %s is declared but no contract reads or writes it", oname)})
			}
		}
	}
	out.sort()
	return out
}

// Warnings counts the diagnostics that are warnings.
func (ds Diagnostics) Warnings() int {
	n := 0
	for _, d := range ds {
		if d.Warning {
			n++
		}
	}
	return n
}
