package spec

import (
	"fmt"
	"regexp"
	"strings"
)

// Explain says in plain language what a contract will do, for the admin
// who installs it: trigger, each action with its mapping table, ownership,
// latency objective, failure policy, boundaries and the permissions asked.
// b supplies the providers' titles, fields and scopes; a contract that did
// not resolve is explained as far as possible.
func Explain(c *Contract, b *Bundle) string {
	var s strings.Builder
	title := c.Title
	if title == "" {
		title = c.Name
	}
	fmt.Fprintf(&s, "%s (%s %s)\n", title, c.Name, c.Version)
	if c.Story != "" {
		fmt.Fprintf(&s, "%s\n", strings.TrimSpace(c.Story))
	}
	s.WriteString("\n")
	for i, a := range c.Actions {
		if a == nil {
			continue
		}
		lead := "When " + describeTrigger(c.Triggers[a.Trigger], b) + ", Accord"
		if t := c.Triggers[a.Trigger]; t != nil && t.Webhook == nil && t.Schedule != nil {
			lead = capitalize(describeTrigger(t, b)) + ", Accord"
		}
		if i > 0 && c.Actions[i-1] != nil && c.Actions[i-1].Trigger == a.Trigger {
			lead = "It also"
		}
		verb := map[string]string{OpCreate: "creates", OpUpdate: "updates", OpUpsert: "creates or updates"}[a.Op]
		fmt.Fprintf(&s, "%s %s %s %s in %s with: %s.", lead, verb, article(a.Object), a.Object, providerTitle(b, a.Provider), describeRows(a.Mapping))
		if len(a.Enrich) > 0 {
			var names []string
			for _, en := range a.Enrich {
				if en != nil {
					names = append(names, fmt.Sprintf("the %s (%s)", en.Object, humanPath(en.ID)))
				}
			}
			fmt.Fprintf(&s, " Before writing, it reads %s from the source's API.", strings.Join(names, " and "))
		}
		if len(a.MatchOn) > 0 && a.Op != OpUpdate {
			fmt.Fprintf(&s, " Before creating, it looks for %s %s with the same %s: first among the records Accord already wrote, then through %s's search; "+
				"one match is updated, several stop with a record error naming them.", article(a.Object), a.Object, strings.Join(a.MatchOn, ", "), providerTitle(b, a.Provider))
		}
		if a.Op != OpCreate && a.OnMissing == "fail" {
			s.WriteString(" If the linked record was deleted, the write fails instead of recreating it.")
		}
		switch a.DeletePolicy() {
		case DeletePropagate:
			fmt.Fprintf(&s, " When the source record is deleted, the %s is deleted in %s too.", a.Object, providerTitle(b, a.Provider))
		case DeleteMark:
			fmt.Fprintf(&s, " When the source record is deleted, the %s is kept and marked with: %s.", a.Object, describeRows(a.DeleteMark))
		default:
			if a.OnDelete != "" {
				fmt.Fprintf(&s, " When the source record is deleted, the %s is left as it is.", a.Object)
			}
		}
		if dp := c.DuplicatesOf(a); dp.Tolerated() && a.Op != OpUpdate {
			fmt.Fprintf(&s, " Duplicates are possible: if %s does not confirm a write and Accord retries it, the same %s can be created twice (accepted because: %s).",
				providerTitle(b, a.Provider), a.Object, strings.TrimSpace(dp.Reason))
		}
		s.WriteString("\n")
	}
	if ovs := c.Overridables(b.Providers); len(ovs) > 0 {
		kinds := map[string]string{OverrideConstant: "one value", OverrideExpr: "an expression"}
		parts := make([]string, len(ovs))
		for i, ov := range ovs {
			parts[i] = fmt.Sprintf("%s %s (%s)", c.action(ov.Action).Object, humanPath(ov.Row.To), kinds[ov.Kind])
		}
		fmt.Fprintf(&s, "Each installation may choose its own %s; every other field is mapped as above.\n", strings.Join(parts, ", "))
	}
	if len(c.Triggers) > 1 {
		s.WriteString("An installation may switch off some of these triggers (not all): their events are then recorded as filtered, and nothing is written for them.\n")
	}
	if len(c.RecordKey) > 0 {
		var parts []string
		for _, obj := range sortedKeys(c.RecordKey) {
			parts = append(parts, fmt.Sprintf("a %s by its %s", obj, humanPath(c.RecordKey[obj])))
		}
		fmt.Fprintf(&s, "Records are matched by one key: %s. Changes to any of them update the same target record, one at a time.\n", strings.Join(parts, ", "))
	}
	for _, o := range c.SourceOfTruth {
		if o == nil {
			continue
		}
		home, obj, _ := strings.Cut(o.Object, ".")
		for _, f := range sortedKeys(o.Fields) {
			owner := o.Fields[f]
			if owner == home {
				fmt.Fprintf(&s, "%s %s is owned by %s and never written.\n", capitalize(obj), humanPath(f), providerTitle(b, owner))
				continue
			}
			fmt.Fprintf(&s, "%s %s is owned by %s: Accord writes %s's value into %s", capitalize(obj), humanPath(f), providerTitle(b, owner),
				providerTitle(b, owner), providerTitle(b, home))
			if c.Direction == TwoWay {
				if c.OnDrift == DriftRevert {
					fmt.Fprintf(&s, ", and a change made to it in %s is written back", providerTitle(b, home))
				} else {
					fmt.Fprintf(&s, ", and a change made to it in %s is reported as drift (a record error), not copied back", providerTitle(b, home))
				}
			}
			s.WriteString(".\n")
		}
	}
	if c.Direction == TwoWay {
		s.WriteString("Both ways, a write whose values the other side already holds is not sent, so Accord's own changes never bounce back.\n")
		switch c.OnConflict {
		case ConflictOwnerWins:
			s.WriteString("Before each update Accord reads the record: a field both sides changed since Accord last wrote it is a conflict; the owner's value is written and the conflict is recorded in the audit log.\n")
		case ConflictHold:
			s.WriteString("Before each update Accord reads the record: a field both sides changed since Accord last wrote it is a conflict; nothing is written, and a record error shows both values (retrying it writes the owner's value).\n")
		default:
			s.WriteString("A field both sides changed between syncs is not detected: the owner's value is written (set on_conflict to record or hold such conflicts).\n")
		}
	}
	for _, line := range describeOrder(c, b) {
		s.WriteString(line + "\n")
	}
	if c.Latency > 0 {
		fmt.Fprintf(&s, "Changes arrive within %s.\n", c.Latency)
	}
	fmt.Fprintf(&s, "Failed writes are retried for %s, then an admin is alerted.\n", c.Failure.EffectiveRetryFor())
	if c.Boundaries.Backfill > 0 {
		fmt.Fprintf(&s, "On install, the last %s of history are read.\n", c.Boundaries.Backfill)
	}
	if len(c.Boundaries.Excludes) > 0 {
		fmt.Fprintf(&s, "Not included: %s.\n", strings.Join(c.Boundaries.Excludes, "; "))
	}
	if scopes := neededScopes(c, b); len(scopes) > 0 {
		s.WriteString("\nPermissions asked for:\n")
		for _, line := range scopes {
			fmt.Fprintf(&s, "  - %s\n", line)
		}
	}
	return s.String()
}

var equalsPattern = regexp.MustCompile(`^\s*([A-Za-z_]\w*)\.([A-Za-z_]\w*)\s*==\s*["']([^"']*)["']\s*$`)

func describeTrigger(t *Trigger, b *Bundle) string {
	if t == nil {
		return "its trigger fires"
	}
	if w := t.Webhook; w != nil {
		obj := "record"
		if p := b.Provider(w.Provider); p != nil && p.Webhooks != nil && len(w.Events) > 0 {
			if et := p.Webhooks.Events[w.Events[0]]; et != nil {
				obj = et.Object
			}
		}
		where := fmt.Sprintf("%s %s in %s", article(obj), obj, providerTitle(b, w.Provider))
		switch m := equalsPattern.FindStringSubmatch(w.Condition); {
		case m != nil && m[1] == obj && (m[2] == "status" || m[2] == "state" || m[2] == "stage"):
			return fmt.Sprintf("%s changes to %s", where, capitalize(m[3])) + catchUp(t.Schedule)
		case m != nil:
			return fmt.Sprintf("%s has %s %s", where, humanPath(m[2]), m[3]) + catchUp(t.Schedule)
		case w.Condition != "":
			return fmt.Sprintf("%s changes and %s", where, strings.TrimSpace(w.Condition)) + catchUp(t.Schedule)
		}
		return fmt.Sprintf("%s changes (%s)", where, strings.Join(w.Events, ", ")) + catchUp(t.Schedule)
	}
	if sc := t.Schedule; sc != nil {
		when := "every " + sc.Every.String()
		if sc.Cron != "" {
			when = "on the schedule " + sc.Cron
		}
		return fmt.Sprintf("%s, for each changed %s in %s", when, sc.Object, providerTitle(b, sc.Provider))
	}
	return "its trigger fires"
}

// catchUp describes a schedule beside webhooks: the pass that lists what
// the webhooks missed.
func catchUp(sc *ScheduleTrigger) string {
	if sc == nil {
		return ""
	}
	when := "every " + sc.Every.String()
	if sc.Cron != "" {
		when = "on the schedule " + sc.Cron
	}
	return fmt.Sprintf(" (and, %s, any change the webhooks missed, listed from %s)", when, sc.Provider)
}

func describeRows(rows []*Row) string {
	var parts []string
	for _, r := range rows {
		if r == nil {
			continue
		}
		var p string
		switch {
		case r.From != "":
			p = fmt.Sprintf("%s ← %s", humanPath(r.To), humanPath(r.From))
		case r.Expr != "":
			p = fmt.Sprintf("%s ← %s", humanPath(r.To), strings.TrimSpace(r.Expr))
		default:
			p = fmt.Sprintf("%s = %s", humanPath(r.To), formatValue(r.Default))
		}
		var notes []string
		if len(r.Enum.Pairs) > 0 {
			pairs := make([]string, len(r.Enum.Pairs))
			for i, e := range r.Enum.Pairs {
				pairs[i] = fmt.Sprintf("%s→%s", e.From, formatValue(e.To))
			}
			notes = append(notes, strings.Join(pairs, ", "))
		}
		if r.HasDefault() && (r.From != "" || r.Expr != "") {
			notes = append(notes, formatValue(r.Default)+" if missing")
		}
		if len(r.Allowed) > 0 {
			notes = append(notes, "only "+joinValues(r.Allowed))
		}
		if len(notes) > 0 {
			p += " (" + strings.Join(notes, "; ") + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// neededScopes lists, per provider, the scopes the contract needs: read
// scopes where it reads, write scopes where it writes. Providers whose scope
// names say neither are listed whole.
func neededScopes(c *Contract, b *Bundle) []string {
	reads, writes := map[string]bool{}, map[string]bool{}
	for _, t := range c.Triggers {
		if t != nil && t.Webhook != nil {
			reads[t.Webhook.Provider] = true
		}
		if t != nil && t.Schedule != nil {
			reads[t.Schedule.Provider] = true
		}
	}
	for _, a := range c.Actions {
		if a != nil {
			writes[a.Provider] = true
		}
	}
	var out []string
	for _, name := range c.Providers {
		p := b.Provider(name)
		if p == nil {
			continue
		}
		var picked []Scope
		for _, s := range p.Scopes {
			if (reads[name] && strings.Contains(s.Name, "read")) || (writes[name] && strings.Contains(s.Name, "write")) {
				picked = append(picked, s)
			}
		}
		if len(picked) == 0 {
			picked = p.Scopes
		}
		for _, s := range picked {
			out = append(out, fmt.Sprintf("%s: %s (%s)", providerTitle(b, name), s.Description, s.Name))
		}
	}
	return out
}

func providerTitle(b *Bundle, name string) string {
	if p := b.Provider(name); p != nil && p.Title != "" {
		return p.Title
	}
	return name
}

func humanPath(p string) string {
	return strings.NewReplacer(".", " ", "_", " ").Replace(p)
}

func formatValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	if v == nil {
		return "nothing"
	}
	return fmt.Sprint(v)
}

func article(noun string) string {
	if noun != "" && strings.ContainsRune("aeiouAEIOU", rune(noun[0])) {
		return "an"
	}
	return "a"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// describeOrder says what orders the changes each webhook provider sends:
// its version field (an older version is never written over a newer one;
// equal versions apply in the order they arrive), or receipt order.
func describeOrder(c *Contract, b *Bundle) []string {
	seen := map[string]bool{}
	var out []string
	for _, name := range sortedKeys(c.Triggers) {
		t := c.Triggers[name]
		if t == nil || t.Webhook == nil || seen[t.Webhook.Provider] {
			continue
		}
		seen[t.Webhook.Provider] = true
		p := b.Provider(t.Webhook.Provider)
		if p == nil || p.Webhooks == nil {
			continue
		}
		w := p.Webhooks
		if w.ObjectVersion == "" {
			out = append(out, fmt.Sprintf("Changes from %s are applied in the order they arrive.", providerTitle(b, p.Name)))
			continue
		}
		kind := "a number that grows"
		if w.VersionKind == "timestamp" {
			kind = "a timestamp"
		}
		out = append(out, fmt.Sprintf("Changes from %s are ordered by %s (%s): an older version never overwrites a newer one, and equal versions apply in the order they arrive.",
			providerTitle(b, p.Name), w.ObjectVersion, kind))
	}
	return out
}
