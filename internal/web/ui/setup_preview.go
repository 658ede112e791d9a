package ui

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/mapping"
	"github.com/accordhq/accord/internal/spec"
)

// preview is what the engine would do with one sample record: for each
// webhook trigger taking the event type, whether it matches, and for each
// of its actions the mapped fields and the requests it would send. It
// compiles and runs the contract's rows with the mapping package, as the
// engine and `accord dryrun` do: the preview cannot disagree with a live
// event. Nothing is stored or sent.
type preview struct {
	EventType string
	Triggers  []previewTrigger
}

type previewTrigger struct {
	Name      string
	Source    string // "Helpdesk ticket"
	Condition string
	Matched   bool
	// Why says why it did not match.
	Why     string
	Actions []previewAction
}

type previewAction struct {
	Name     string
	Sentence string // "we will create an incident in Incidents with these fields"
	Rows     []previewRow
	// Errors are the mapping's failures on the sample, one per field: the
	// engine would file a bad_data record error and send nothing.
	Errors   []string
	Requests []previewRequest
	Owned    []string // target fields its own provider owns: never written
}

type previewRow struct {
	To, From, Value string
	Written         bool
	// Overridden: the installation's choice replaces the contract's row.
	Overridden bool
}

type previewRequest struct {
	Method, Path, Note string
	Headers            []string
	Body               string
}

func runPreview(c *spec.Contract, providers map[string]*spec.Provider, eventType string, doc map[string]any, o spec.Overrides) preview {
	out := preview{EventType: eventType}
	c = c.WithOverrides(o)
	for _, name := range slices.Sorted(maps.Keys(c.Triggers)) {
		t := c.Triggers[name]
		if t == nil || t.Webhook == nil || !slices.Contains(t.Webhook.Events, eventType) {
			continue
		}
		p := providers[t.Webhook.Provider]
		if p == nil || p.Webhooks == nil || p.Webhooks.Events[eventType] == nil {
			continue
		}
		src := p.Objects[p.Webhooks.Events[eventType].Object]
		if src == nil {
			continue
		}
		pt := previewTrigger{Name: name, Source: providerTitleOf(providers, p.Name) + " " + src.Name, Condition: t.Webhook.Condition}
		if !o.TriggerOn(name) {
			pt.Why = "You switched this trigger off: its events would end filtered, and nothing would be written."
			out.Triggers = append(out.Triggers, pt)
			continue
		}
		cond, err := mapping.NewCondition(src, t.Webhook.Condition, 0)
		if err != nil {
			pt.Why = "Its condition does not compile: " + err.Error()
			out.Triggers = append(out.Triggers, pt)
			continue
		}
		ok, err := cond.Match(doc)
		switch {
		case err != nil:
			pt.Why = fmt.Sprintf("Its condition failed on this record (%v): the event would end filtered, and nothing would be written.", err)
		case !ok:
			pt.Why = fmt.Sprintf("Its condition %s is false for this record: the event would end filtered, and nothing would be written.", t.Webhook.Condition)
		default:
			pt.Matched = true
			for _, a := range c.Actions {
				if a != nil && a.Trigger == name {
					pt.Actions = append(pt.Actions, previewOne(c, providers, a, p, src, doc, o))
				}
			}
		}
		out.Triggers = append(out.Triggers, pt)
	}
	return out
}

func previewOne(c *spec.Contract, providers map[string]*spec.Provider, a *spec.Action, sp *spec.Provider, src *spec.Object, doc map[string]any, o spec.Overrides) previewAction {
	tp := providers[a.Provider]
	pa := previewAction{Name: a.Name}
	if tp == nil || tp.Objects[a.Object] == nil {
		pa.Errors = []string{fmt.Sprintf("provider %s has no object %s", a.Provider, a.Object)}
		return pa
	}
	dst := tp.Objects[a.Object]
	pa.Sentence = fmt.Sprintf("we will %s %s %s in %s with these fields", a.Op, article(a.Object), a.Object, providerTitleOf(providers, tp.Name))
	pa.Owned = c.TargetOwned(a)
	var related []*spec.Object
	for _, en := range a.Enrich {
		if o := sp.Objects[en.Object]; o != nil {
			related = append(related, o)
		}
	}
	m, err := mapping.New(a, src, dst, &mapping.Config{Skip: pa.Owned, Related: related})
	if err != nil {
		pa.Errors = []string{err.Error()}
		return pa
	}
	res, err := m.Map(doc)
	if err != nil {
		for _, e := range unjoin(err) {
			pa.Errors = append(pa.Errors, e.Error())
		}
	}
	for _, row := range a.Mapping {
		if row == nil {
			continue
		}
		pr := previewRow{To: row.To, From: rowSource(row)}
		_, pr.Overridden = o.Fields[a.Name+"."+row.To]
		if v, ok := spec.Get(res.Doc, row.To); ok && err == nil {
			j, _ := json.Marshal(v)
			pr.Value, pr.Written = string(j), true
		}
		pa.Rows = append(pa.Rows, pr)
	}
	if err != nil {
		return pa
	}
	e := dst.Endpoints
	if lookup := connector.FirstEndpoint(e.Find, e.FindByExternalID); lookup != nil && a.Op != spec.OpUpdate {
		path, _ := connector.PreviewPath(lookup.Path, res.Doc, "{source id}")
		pa.Requests = append(pa.Requests, previewRequest{Method: lookup.Method, Path: path,
			Note: "First the record is looked up (the link table, then this call): found, it is updated instead of created again."})
	}
	ep := e.Create
	if a.Op == spec.OpUpdate || ep == nil {
		ep = e.Update
	}
	if ep == nil {
		return pa
	}
	path, used := connector.PreviewPath(ep.Path, res.Doc, "{linked id}")
	fields := map[string]any{}
	for k, v := range res.Doc {
		if !slices.Contains(used, k) { // a field that fills the path is not sent in the body
			fields[k] = v
		}
	}
	body := any(fields)
	if ep.Body != "" {
		body = map[string]any{ep.Body: fields}
	}
	j, _ := json.MarshalIndent(body, "", "  ")
	req := previewRequest{Method: ep.Method, Path: path, Headers: []string{connector.RedactedAuth(tp)}, Body: string(j)}
	if ep.IdempotencyHeader != "" {
		req.Headers = append(req.Headers, ep.IdempotencyHeader+": accord-… (one key per record and action: a retry is the same request)")
	}
	pa.Requests = append(pa.Requests, req)
	return pa
}

// unjoin splits an errors.Join into its parts.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func rowSource(row *spec.Row) string {
	switch {
	case row.Expr != "":
		return row.Expr
	case row.From != "" && len(row.Enum.Pairs) > 0:
		return row.From + " (through its value map)"
	case row.From != "":
		return row.From
	case row.Default != nil:
		return fmt.Sprintf("always %v", row.Default)
	}
	return ""
}

func article(noun string) string {
	if noun != "" && strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an"
	}
	return "a"
}

func providerTitleOf(providers map[string]*spec.Provider, name string) string {
	if p := providers[name]; p != nil && p.Title != "" {
		return p.Title
	}
	return name
}

// sampleJSON is a sample record for the first trigger taking eventType:
// each declared field with a plausible value, enum fields with a value
// the trigger's condition names when it names one (so the sample shows a
// write rather than a filtered event).
func sampleJSON(c *spec.Contract, providers map[string]*spec.Provider, eventType string) string {
	for _, name := range slices.Sorted(maps.Keys(c.Triggers)) {
		t := c.Triggers[name]
		if t == nil || t.Webhook == nil || !slices.Contains(t.Webhook.Events, eventType) {
			continue
		}
		p := providers[t.Webhook.Provider]
		if p == nil || p.Webhooks == nil || p.Webhooks.Events[eventType] == nil || p.Objects[p.Webhooks.Events[eventType].Object] == nil {
			continue
		}
		src := p.Objects[p.Webhooks.Events[eventType].Object]
		j, _ := json.MarshalIndent(sampleFields(src.Name, src.Fields, t.Webhook.Condition), "", "  ")
		return string(j)
	}
	return "{}"
}

var sampleTime = time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC)

func sampleFields(object string, fields map[string]*spec.Field, cond string) map[string]any {
	out := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		f := fields[name]
		if f == nil {
			continue
		}
		out[name] = sampleValue(object, name, f, cond)
	}
	return out
}

func sampleValue(object, name string, f *spec.Field, cond string) any {
	if len(f.Enum) > 0 {
		for _, e := range f.Enum {
			if s, ok := e.(string); ok && strings.Contains(cond, `"`+s+`"`) {
				return s
			}
		}
		return f.Enum[0]
	}
	switch f.Type {
	case "int":
		return 1
	case "float":
		return 1.5
	case "bool":
		return true
	case "timestamp":
		return sampleTime.Format(time.RFC3339)
	case "object":
		return sampleFields(object, f.Fields, cond)
	case "list":
		return []any{}
	}
	switch {
	case name == "id":
		return "sample-1"
	case strings.HasSuffix(name, "url"):
		return "https://example.com/" + object + "s/sample-1"
	case strings.HasSuffix(name, "email"):
		return "someone@example.com"
	}
	return "Sample " + strings.ReplaceAll(name, "_", " ")
}
