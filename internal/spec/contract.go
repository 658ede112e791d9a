package spec

import "strings"

// ContractFormat is the value of the `accord` key of a contract.
const ContractFormat = "contract/v1"

// Contract is one integration between partner systems.
type Contract struct {
	Meta          Meta                `yaml:"-" json:"-"`
	File          string              `yaml:"-" json:"-"`
	Accord        string              `yaml:"accord" jsonschema:"required,enum=contract/v1" jsonschema_description:"format and version of this file"`
	Name          string              `yaml:"name" jsonschema:"required,pattern=^[a-z][a-z0-9_-]*$"`
	Version       string              `yaml:"version" jsonschema:"required" jsonschema_description:"semantic version of this contract, e.g. 1.2.0"`
	Title         string              `yaml:"title"`
	Story         string              `yaml:"story" jsonschema_description:"the user story this contract serves"`
	Providers     []string            `yaml:"providers" jsonschema:"required" jsonschema_description:"providers this contract uses"`
	Direction     string              `yaml:"direction" jsonschema:"required,enum=one_way,enum=two_way"`
	SourceOfTruth []*Ownership        `yaml:"source_of_truth" jsonschema_description:"which provider owns each object and field; a field is only written on the side that does not own it"`
	Latency       Duration            `yaml:"latency" jsonschema_description:"latency objective from change to effect, e.g. 60s"`
	Failure       Failure             `yaml:"failure"`
	Boundaries    Boundaries          `yaml:"boundaries"`
	Triggers      map[string]*Trigger `yaml:"triggers" jsonschema:"required"`
	Actions       []*Action           `yaml:"actions" jsonschema:"required"`
	// Duplicates applies to every create and upsert action that does not
	// declare its own.
	Duplicates *Duplicates `yaml:"duplicates" jsonschema_description:"default duplicates policy of the create and upsert actions: see the action's duplicates"`
	// RecordKey ties several source objects to one target record: source
	// object name → the path of the key in it (customer: customer.id,
	// subscription: subscription.customer). Actions whose trigger carries
	// one of these objects link, lock and look up by the key's value, so
	// customer and subscription events write one company.
	RecordKey map[string]string `yaml:"record_key" jsonschema_description:"source object → path of the shared record key, e.g. {customer: customer.id, subscription: subscription.customer}: one target record, link and lock per key value"`
	// OnDrift decides what a two-way contract does when a field Accord
	// wrote is changed on the side that does not own it: report it (a
	// record error of class drift, the default) or revert it (write the
	// owner's value back).
	OnDrift string `yaml:"on_drift" jsonschema:"enum=report,enum=revert" jsonschema_description:"two-way: a field changed on the side that does not own it is reported as drift (default) or reverted to the owner's value"`
	// OnConflict decides what a two-way contract does when both sides
	// changed a field since Accord last wrote it: Accord reads the target
	// before each update to find out, and owner_wins writes the owner's
	// value (recording the conflict in the audit log) while hold writes
	// nothing and files a record error showing both values. Unset: the
	// target is not read first and the owner's value is written.
	OnConflict string `yaml:"on_conflict" jsonschema:"enum=owner_wins,enum=hold" jsonschema_description:"two-way: a field both sides changed since Accord last wrote it (found by reading the target before each update): owner_wins writes the owner's value and records the conflict in the audit log; hold writes nothing and files a conflict record error showing both values (retrying it writes the owner's value)"`
}

// Conflict policies (Contract.OnConflict).
const (
	ConflictOwnerWins = "owner_wins"
	ConflictHold      = "hold"
)

// Drift policies (Contract.OnDrift).
const (
	DriftReport = "report"
	DriftRevert = "revert"
)

// RecordKeyObject is the link's source object for actions keyed by the
// contract's record key (no object name starts with @).
const RecordKeyObject = "@record"

// RecordKeyPath returns the path of the record key in source object obj,
// or "" when obj's actions are keyed by the object's own id.
func (c *Contract) RecordKeyPath(obj string) string { return c.RecordKey[obj] }

// Duplicates policies.
const (
	// DuplicatesPrevented (the default) means the action must be able to
	// promise at most one target per source record: its target object has
	// a find_by_external_id endpoint or an idempotency_header on create.
	DuplicatesPrevented = "prevented"
	// DuplicatesTolerated waives that promise, with a reason: a retried
	// delivery whose answer was lost may create a second target.
	DuplicatesTolerated = "tolerated"
)

// Duplicates says whether an action may create the same target twice.
//
//	duplicates:
//	  policy: tolerated
//	  reason: a repeated chat notification is noise, not harm
type Duplicates struct {
	Meta   Meta   `yaml:"-" json:"-"`
	Policy string `yaml:"policy" jsonschema:"required,enum=prevented,enum=tolerated" jsonschema_description:"prevented (default): lint requires a lookup (find_by_external_id) or an idempotency_header on the target's create endpoint; tolerated: a retry after a lost answer may create a second target"`
	Reason string `yaml:"reason" jsonschema_description:"why duplicates are acceptable; required with policy tolerated, and shown by contract explain"`
}

// Tolerated reports whether duplicates are explicitly accepted.
func (d *Duplicates) Tolerated() bool { return d != nil && d.Policy == DuplicatesTolerated }

// DuplicatesOf returns the policy that applies to a: its own, else the
// contract's, else nil (prevented).
func (c *Contract) DuplicatesOf(a *Action) *Duplicates {
	if a.Duplicates != nil {
		return a.Duplicates
	}
	return c.Duplicates
}

// Direction values.
const (
	OneWay = "one_way"
	TwoWay = "two_way"
)

// Ownership names the provider owning an object, and exceptions per field.
type Ownership struct {
	Meta Meta `yaml:"-" json:"-"`
	// Object is provider.object, e.g. incidents.incident.
	Object string `yaml:"object" jsonschema:"required" jsonschema_description:"provider.object"`
	Owner  string `yaml:"owner" jsonschema:"required" jsonschema_description:"provider owning the object's fields unless listed under fields"`
	// Fields maps a field name to the provider owning it.
	Fields map[string]string `yaml:"fields" jsonschema_description:"field → owning provider"`
}

// Failure is what happens when a write keeps failing.
type Failure struct {
	Meta Meta `yaml:"-" json:"-"`
	// RetryFor is how long failed writes are retried (default 24h).
	RetryFor Duration `yaml:"retry_for" jsonschema_description:"how long failed writes are retried (default 24h)"`
	Then     string   `yaml:"then" jsonschema:"enum=alert" jsonschema_description:"what happens after retry_for: alert (default)"`
}

// EffectiveRetryFor returns RetryFor or its default of 24 hours.
func (f Failure) EffectiveRetryFor() Duration {
	if f.RetryFor <= 0 {
		return Duration(24 * 3600 * 1e9)
	}
	return f.RetryFor
}

// Boundaries are what the contract deliberately does not do.
type Boundaries struct {
	Meta Meta `yaml:"-" json:"-"`
	// Backfill is how far back history is read on install (0: none).
	Backfill Duration `yaml:"backfill" jsonschema_description:"history read on install, e.g. 30d"`
	Excludes []string `yaml:"excludes" jsonschema_description:"plain-language list of what this contract will not do"`
	// Retention is how long an uninstalled installation's stored events,
	// links and record errors are kept (nil: 30 days; 0: deleted at once).
	Retention *Duration `yaml:"retention" jsonschema_description:"how long stored events, links and record errors are kept after uninstall, e.g. 30d (default 30d; 0 deletes them at once)"`
}

// Trigger starts actions: webhook events, a schedule, or both. With both,
// webhooks apply changes at once and the scheduled sync lists the same
// object for what they missed; both go through the same actions and links.
type Trigger struct {
	Meta     Meta             `yaml:"-" json:"-"`
	Name     string           `yaml:"-" json:"-"`
	Webhook  *WebhookTrigger  `yaml:"webhook"`
	Schedule *ScheduleTrigger `yaml:"schedule"`
}

// WebhookTrigger fires on partner events.
type WebhookTrigger struct {
	Meta     Meta     `yaml:"-" json:"-"`
	Provider string   `yaml:"provider" jsonschema:"required"`
	Events   []string `yaml:"events" jsonschema:"required" jsonschema_description:"event types, e.g. ticket.updated"`
	// Condition is a CEL expression over the event's object, named after
	// the object (ticket.status == "escalated").
	Condition string `yaml:"condition" jsonschema_description:"CEL condition over the event's object"`
}

// ScheduleTrigger fires periodically over an object's changes.
type ScheduleTrigger struct {
	Meta      Meta     `yaml:"-" json:"-"`
	Provider  string   `yaml:"provider" jsonschema:"required"`
	Object    string   `yaml:"object" jsonschema:"required"`
	Cron      string   `yaml:"cron" jsonschema_description:"five-field cron expression (UTC)"`
	Every     Duration `yaml:"every" jsonschema_description:"interval, e.g. 15m"`
	Condition string   `yaml:"condition" jsonschema_description:"CEL condition over each object"`
}

// Action operations.
const (
	OpCreate = "create"
	OpUpdate = "update"
	OpUpsert = "upsert"
)

// Action writes to a target object when its trigger fires.
type Action struct {
	Meta     Meta   `yaml:"-" json:"-"`
	Name     string `yaml:"name" jsonschema:"required"`
	Trigger  string `yaml:"trigger" jsonschema:"required"`
	Provider string `yaml:"provider" jsonschema:"required" jsonschema_description:"target provider"`
	Object   string `yaml:"object" jsonschema:"required" jsonschema_description:"target object"`
	Op       string `yaml:"op" jsonschema:"required,enum=create,enum=update,enum=upsert"`
	// OnMissing decides what an update does when the linked target was
	// deleted at the partner (default recreate).
	OnMissing string `yaml:"on_missing" jsonschema:"enum=recreate,enum=fail" jsonschema_description:"when the linked target was deleted: recreate (default) or fail"`
	Mapping   []*Row `yaml:"mapping" jsonschema:"required"`
	// OnDelete decides what happens to the linked target when the source
	// record is deleted (an event type the manifest marks `deletes`).
	OnDelete string `yaml:"on_delete" jsonschema:"enum=ignore,enum=propagate,enum=mark" jsonschema_description:"when the source record is deleted: ignore (default: the target stays as it is), propagate (the target is deleted too) or mark (the delete_mark rows are written to the target)"`
	// DeleteMark is the mapping written to the target on a delete with
	// on_delete: mark (constants, or values from the deleted record).
	DeleteMark []*Row `yaml:"delete_mark" jsonschema_description:"on_delete: mark: the rows written to the target when the source record is deleted, e.g. [{to: status, default: churned}]"`
	// Duplicates, on a create or upsert, declares whether a second target
	// per source record is acceptable (see Duplicates).
	Duplicates *Duplicates `yaml:"duplicates" jsonschema_description:"create/upsert only: whether this action may create the same target twice (policy prevented or tolerated, with a reason)"`
	// MatchOn names mapped target fields that identify an existing target:
	// before creating, the target's find endpoint is searched with them
	// (after the link table, which a lagging search index cannot fool).
	MatchOn []string `yaml:"match_on" jsonschema_description:"create/upsert: mapped target fields identifying an existing record, searched through the target's find endpoint before creating"`
	// Enrich fetches related objects from the trigger's provider while the
	// event is handled; each is in scope in from/expr under its object name.
	Enrich []*Enrich `yaml:"enrich" jsonschema_description:"related objects fetched from the trigger's provider (its get endpoint), in scope under their object name"`
}

// Delete policies (Action.OnDelete).
const (
	DeleteIgnore    = "ignore"
	DeletePropagate = "propagate"
	DeleteMark      = "mark"
)

// DeletePolicy returns the action's on_delete, defaulted.
func (a *Action) DeletePolicy() string {
	if a.OnDelete == "" {
		return DeleteIgnore
	}
	return a.OnDelete
}

// Enrich is one related object fetched while an event is handled.
//
//	enrich: [{object: customer, id: subscription.customer}]
type Enrich struct {
	Meta   Meta   `yaml:"-" json:"-"`
	Object string `yaml:"object" jsonschema:"required" jsonschema_description:"object of the trigger's provider, fetched with its get endpoint"`
	ID     string `yaml:"id" jsonschema:"required" jsonschema_description:"path of its id in the event's object, e.g. subscription.customer"`
}

// Row is one line of a mapping table: a target field and where its value
// comes from (from, expr, or default alone for a constant).
type Row struct {
	Meta Meta `yaml:"-" json:"-"`
	// To is the target field, dotted for nested objects.
	To string `yaml:"to" jsonschema:"required" jsonschema_description:"target field (dotted path)"`
	// From is a source field path led by the source object's name (ticket.title).
	From string `yaml:"from" jsonschema_description:"source field, e.g. ticket.priority"`
	// Expr is a CEL expression over the source object.
	Expr    string  `yaml:"expr" jsonschema_description:"CEL expression, e.g. \"Escalated: \" + ticket.title"`
	Type    string  `yaml:"type" jsonschema:"enum=string,enum=int,enum=float,enum=bool,enum=timestamp" jsonschema_description:"convert to this type (default: the target field's type)"`
	Enum    EnumMap `yaml:"enum" jsonschema_description:"source value → target value"`
	Allowed []any   `yaml:"allowed" jsonschema_description:"the only values that may be written"`
	Default any     `yaml:"default" jsonschema_description:"value when the source is missing (alone: a constant)"`
	// Override lets an installation replace this row (see Overrides):
	// "constant" with one value (checked like a default), "expr" with a CEL
	// expression over the same objects. Default: the row is fixed.
	Override string `yaml:"override" jsonschema:"enum=constant,enum=expr" jsonschema_description:"what an installation may replace this row with: constant (one value) or expr (a CEL expression); absent: fixed"`
}

// HasDefault reports whether the row declares a default (even null).
func (r *Row) HasDefault() bool { return r.Meta.Has("default") }

// FromField returns From without its leading object name.
func (r *Row) FromField() string {
	_, field, _ := strings.Cut(r.From, ".")
	return field
}

// Trigger returns the named trigger or nil.
func (c *Contract) TriggerNamed(name string) *Trigger { return c.Triggers[name] }

// OwnerOf returns the provider owning provider.object's field, or "" when
// the contract does not say.
func (c *Contract) OwnerOf(provider, object, field string) string {
	for _, o := range c.SourceOfTruth {
		if o.Object != provider+"."+object {
			continue
		}
		top, _, _ := strings.Cut(field, ".")
		if p, ok := o.Fields[field]; ok {
			return p
		}
		if p, ok := o.Fields[top]; ok {
			return p
		}
		return o.Owner
	}
	return ""
}

// TargetOwned lists the fields of the action's target object owned by the
// target provider itself: they are never written by this action.
func (c *Contract) TargetOwned(a *Action) []string {
	var out []string
	for _, o := range c.SourceOfTruth {
		if o.Object != a.Provider+"."+a.Object {
			continue
		}
		for _, f := range sortedKeys(o.Fields) {
			if o.Fields[f] == a.Provider {
				out = append(out, f)
			}
		}
	}
	return out
}
