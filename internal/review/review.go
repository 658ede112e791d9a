package review

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/accordhq/accord/internal/spec"
)

// DefaultEventRetention is how long Accord keeps a delivered event unless
// the operator configures otherwise (retention.DefaultEventRetention).
const DefaultEventRetention = 7 * 24 * time.Hour

// DefaultUninstallRetention is how long an uninstalled installation's data
// is kept when its contract does not say (uninstall.DefaultRetention).
const DefaultUninstallRetention = 30 * 24 * time.Hour

// Permission is one scope a contract needs, with why.
type Permission struct {
	Provider    string   `json:"provider"`
	Scope       string   `json:"scope"`
	Description string   `json:"description"`
	Why         []string `json:"why"`
}

// Field is one partner field the contract reads or writes.
type Field struct {
	Provider string `json:"provider"`
	Object   string `json:"object"`
	Field    string `json:"field"`
	// By is the trigger (reads) or action (writes) that uses it.
	By string `json:"by"`
}

// Stored is one kind of data Accord keeps for an installation.
type Stored struct {
	What      string `json:"what"`
	Retention string `json:"retention"`
}

// Contract is what one contract asks of a tenant.
type Contract struct {
	Name        string       `json:"name"`
	Version     string       `json:"version"`
	Title       string       `json:"title"`
	Story       string       `json:"story,omitempty"`
	Explanation string       `json:"explanation"`
	Permissions []Permission `json:"permissions"`
	Reads       []Field      `json:"reads"`
	Writes      []Field      `json:"writes"`
	Stored      []Stored     `json:"stored"`
	// UninstallRetention is how long stored data is kept after uninstall.
	UninstallRetention string `json:"uninstall_retention"`
	// Rollout is the stage its pack recommends (internal, beta, ga); empty
	// when no pack says.
	Rollout string `json:"rollout,omitempty"`
}

// Options are what the process configuration adds.
type Options struct {
	// EventRetention is how long delivered events are kept; 0: the
	// default.
	EventRetention time.Duration
	// Rollout is the stage a pack recommends for the contract.
	Rollout string
}

// Describe says what c asks of a tenant, with b's providers.
func Describe(c *spec.Contract, b *spec.Bundle, opts Options) Contract {
	title := c.Title
	if title == "" {
		title = c.Name
	}
	out := Contract{Name: c.Name, Version: c.Version, Title: title, Story: strings.TrimSpace(c.Story),
		Explanation: spec.Explain(c, b), Permissions: Permissions(c, b), Rollout: opts.Rollout}
	out.Reads, out.Writes = Fields(c)
	keep := DefaultUninstallRetention
	if c.Boundaries.Retention != nil {
		keep = c.Boundaries.Retention.D()
	}
	out.UninstallRetention = Human(keep)
	evKeep := opts.EventRetention
	if evKeep <= 0 {
		evKeep = DefaultEventRetention
	}
	afterUninstall := "; after uninstall at most " + Human(keep)
	for _, name := range slices.Sorted(maps.Keys(c.Triggers)) {
		t := c.Triggers[name]
		if t != nil && t.Webhook != nil {
			out.Stored = append(out.Stored, Stored{
				What:      fmt.Sprintf("each %s event from %s (%s): its id, type, object id and payload, to deliver it once", strings.Join(t.Webhook.Events, ", "), providerTitle(b, t.Webhook.Provider), name),
				Retention: Human(evKeep) + " after it was received" + afterUninstall,
			})
		}
	}
	var targets []string
	for _, a := range c.Actions {
		if a != nil {
			targets = append(targets, fmt.Sprintf("%s %s", providerTitle(b, a.Provider), a.Object))
		}
	}
	if len(targets) > 0 {
		out.Stored = append(out.Stored,
			Stored{What: "for each source record, the id of the record written in " + strings.Join(slices.Compact(targets), ", ") +
				" and the values last written to it (what makes writes idempotent and sync loop-free)", Retention: "while installed" + afterUninstall},
			Stored{What: "for each record that failed: its id, the failure class and the partner's message (secrets removed)", Retention: "until resolved" + afterUninstall},
		)
	}
	out.Stored = append(out.Stored, Stored{What: "the connection's credentials, encrypted with the tenant's own data key", Retention: "until disconnected or uninstalled: tokens are then revoked at the provider where it supports it and deleted"})
	// Lists are [] in JSON, never null: the published document says array.
	out.Permissions = orEmpty(out.Permissions)
	out.Reads, out.Writes = orEmpty(out.Reads), orEmpty(out.Writes)
	for i := range out.Permissions {
		out.Permissions[i].Why = orEmpty(out.Permissions[i].Why)
	}
	return out
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Human renders a duration in days or hours ("30 days", "0: deleted at
// once").
func Human(d time.Duration) string {
	switch {
	case d <= 0:
		return "nothing (deleted at once)"
	case d%(24*time.Hour) == 0:
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	default:
		return d.String()
	}
}

func providerTitle(b *spec.Bundle, name string) string {
	if p := b.Provider(name); p != nil && p.Title != "" {
		return p.Title
	}
	return name
}

// Permissions lists the scopes c needs, per provider, with the triggers
// and actions that need them: read scopes where it reads, write scopes
// where it writes (the rule contract explain states); a provider whose
// scope names say neither is listed whole, for everything it does.
func Permissions(c *spec.Contract, b *spec.Bundle) []Permission {
	reads, writes := map[string][]string{}, map[string][]string{}
	for _, name := range slices.Sorted(maps.Keys(c.Triggers)) {
		t := c.Triggers[name]
		switch {
		case t == nil:
		case t.Webhook != nil:
			reads[t.Webhook.Provider] = append(reads[t.Webhook.Provider],
				fmt.Sprintf("trigger %s receives %s", name, strings.Join(t.Webhook.Events, ", ")))
		case t.Schedule != nil:
			reads[t.Schedule.Provider] = append(reads[t.Schedule.Provider], fmt.Sprintf("trigger %s reads on a schedule", name))
		}
	}
	for _, a := range c.Actions {
		if a == nil {
			continue
		}
		var fields []string
		for _, r := range a.Mapping {
			if r != nil {
				fields = append(fields, r.To)
			}
		}
		writes[a.Provider] = append(writes[a.Provider], fmt.Sprintf("action %s %ss %s %s (%s)", a.Name, a.Op, article(a.Object), a.Object, strings.Join(fields, ", ")))
	}
	var out []Permission
	for _, name := range c.Providers {
		p := b.Provider(name)
		if p == nil {
			continue
		}
		var picked []Permission
		for _, s := range p.Scopes {
			var why []string
			if strings.Contains(s.Name, "read") {
				why = append(why, reads[name]...)
			}
			if strings.Contains(s.Name, "write") {
				why = append(why, writes[name]...)
			}
			if len(why) > 0 {
				picked = append(picked, Permission{Provider: name, Scope: s.Name, Description: s.Description, Why: why})
			}
		}
		if len(picked) == 0 {
			// Never null in JSON: a scope with no known use says so with [].
			all := append(append([]string{}, reads[name]...), writes[name]...)
			for _, s := range p.Scopes {
				picked = append(picked, Permission{Provider: name, Scope: s.Name, Description: s.Description, Why: all})
			}
		}
		out = append(out, picked...)
	}
	return out
}

func article(noun string) string {
	if noun != "" && strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an"
	}
	return "a"
}

var (
	quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	path   = regexp.MustCompile(`\b([A-Za-z_]\w*)\.([A-Za-z_][\w.]*)`)
)

// Fields lists the source fields c reads (in conditions, mappings and
// expressions) and the target fields it writes, sorted, once each.
func Fields(c *spec.Contract) (reads, writes []Field) {
	seen := map[Field]bool{}
	addRead := func(provider, by, text string) {
		for _, m := range path.FindAllStringSubmatch(quoted.ReplaceAllString(text, ""), -1) {
			f := Field{Provider: provider, Object: m[1], Field: m[2], By: by}
			if !seen[f] {
				seen[f] = true
				reads = append(reads, f)
			}
		}
	}
	source := map[string]string{} // trigger → provider
	for name, t := range c.Triggers {
		if t == nil {
			continue
		}
		if t.Webhook != nil {
			source[name] = t.Webhook.Provider
			addRead(t.Webhook.Provider, "trigger "+name, t.Webhook.Condition)
		} else if t.Schedule != nil {
			source[name] = t.Schedule.Provider
		}
	}
	for _, a := range c.Actions {
		if a == nil {
			continue
		}
		for _, r := range a.Mapping {
			if r == nil {
				continue
			}
			addRead(source[a.Trigger], "action "+a.Name, r.From+" "+r.Expr)
			writes = append(writes, Field{Provider: a.Provider, Object: a.Object, Field: r.To, By: "action " + a.Name})
		}
	}
	less := func(x, y Field) int {
		return strings.Compare(x.Provider+"\x00"+x.Object+"\x00"+x.Field+"\x00"+x.By, y.Provider+"\x00"+y.Object+"\x00"+y.Field+"\x00"+y.By)
	}
	slices.SortFunc(reads, less)
	slices.SortFunc(writes, less)
	return reads, writes
}
