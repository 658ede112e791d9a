package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/contracttest"
	"github.com/accordhq/accord/internal/mapping"
	"github.com/accordhq/accord/internal/spec"
)

func init() {
	register(&command{
		name:    "dryrun",
		summary: "run one webhook event through a contract with no database and no partner: the trigger match, each action's mapped body and the requests it would send; --live sends them to a sandbox",
		usage:   "--contract FILE --event PAYLOAD.json [--type EVENT_TYPE] [--records RECORDS.yaml] [--live --connection PROVIDER=BASE_URL...]",
		example: "accord dryrun --contract packs/support-escalation/contracts/escalation.yaml --event ticket.json",
		setup: func(fs *flag.FlagSet, env *Env) runFunc {
			var contractFile, eventFile, eventType string
			fs.StringVar(&contractFile, "contract", "", "the contract file (its pack's providers are loaded beside it)")
			fs.StringVar(&eventFile, "event", "", "the webhook body, as the partner sends it (- for standard input)")
			fs.StringVar(&eventType, "type", "", "the event type, when the body does not carry it (a header in the partner's request)")
			var recordsFile string
			fs.StringVar(&recordsFile, "records", "", "partner records by provider.object (YAML or JSON, as a test case's partner.records) that answer the reads an action makes before it writes; without it, or for a record it lacks, the mock partner answers with an example built from the manifest")
			live := fs.Bool("live", false, "then send the event through the engine, its requests going to the --connection sandboxes, and print each answer")
			conns := sandboxFlag{}
			fs.Var(conns, "connection", "PROVIDER=BASE_URL of a sandbox account for --live (repeatable); its credential is read from "+sandboxEnv("PROVIDER")+"; a provider without one is answered by a mock")
			loopback := fs.Bool("allow-loopback-partners", envBool(env, "ACCORD_ALLOW_LOOPBACK_PARTNERS"), "let a sandbox be on 127.0.0.0/8 or ::1 (simulators, local fakes)")
			return func(ctx context.Context, args []string) error {
				if contractFile == "" || eventFile == "" || len(args) > 0 {
					return errors.New("name a contract and an event, e.g. accord dryrun --contract packs/support-escalation/contracts/escalation.yaml --event ticket.json")
				}
				if *live && len(conns) == 0 {
					return errors.New("--live needs a --connection PROVIDER=BASE_URL for the partner to send to")
				}
				if len(conns) > 0 && !*live {
					return errors.New("--connection is for --live")
				}
				sandboxes, err := conns.sandboxes(env)
				if err != nil {
					return err
				}
				c, b, diags := loadContractWithCatalog(contractFile)
				if len(diags) > 0 {
					for _, d := range diags {
						fmt.Fprintln(env.Stderr, d.String())
					}
					return ExitError{Code: 1}
				}
				var raw []byte
				if eventFile == "-" {
					raw, err = io.ReadAll(os.Stdin)
				} else {
					raw, err = os.ReadFile(eventFile)
				}
				if err != nil {
					return fmt.Errorf("reading the event: %w", err)
				}
				var payload map[string]any
				if err := json.Unmarshal(raw, &payload); err != nil {
					return fmt.Errorf("%s: the event body is not a JSON object: %w", eventFile, err)
				}
				reads, err := loadRecords(recordsFile)
				if err != nil {
					return err
				}
				if err := dryRun(env.Stdout, c, b, payload, eventType, reads); err != nil || !*live {
					return err
				}
				return dryRunLive(ctx, env.Stdout, c, b, payload, eventType, &contracttest.Config{Live: true, Sandboxes: sandboxes, AllowLoopback: *loopback})
			}
		},
	})
}

// dryRun says what the engine would do with payload: for every webhook
// trigger of c, whether it matches, and for each of its actions the mapped
// body, the row behind each field and the partner requests it would send.
// Nothing is stored and nothing is sent; credentials are never shown. The
// reads an action makes before it writes are answered by reads (a mock
// partner), and the output says so.
func dryRun(w io.Writer, c *spec.Contract, b *spec.Bundle, payload map[string]any, eventType string, reads *offlineReads) error {
	names := make([]string, 0, len(c.Triggers))
	for n := range c.Triggers {
		names = append(names, n)
	}
	sort.Strings(names)
	matched := 0
	for _, name := range names {
		t := c.Triggers[name]
		if t == nil || t.Webhook == nil {
			continue
		}
		p := b.Providers[t.Webhook.Provider]
		if p == nil || p.Webhooks == nil {
			continue
		}
		typ := eventType
		if typ == "" && !strings.HasPrefix(p.Webhooks.EventType, "header:") {
			if v, ok := spec.Get(payload, p.Webhooks.EventType); ok {
				typ = fmt.Sprint(v)
			}
		}
		if typ == "" {
			return fmt.Errorf("the event type is in %s, not in the body: pass --type", p.Webhooks.EventType)
		}
		if !contains(t.Webhook.Events, typ) {
			fmt.Fprintf(w, "trigger %s: not for %s events (it takes %s)\n", name, typ, strings.Join(t.Webhook.Events, ", "))
			continue
		}
		et := p.Webhooks.Events[typ]
		if et == nil || p.Objects[et.Object] == nil {
			return fmt.Errorf("provider %s does not declare event %s", p.Name, typ)
		}
		src := p.Objects[et.Object]
		doc := payload
		if p.Webhooks.Object != "" {
			doc = map[string]any{}
			if v, ok := spec.Get(payload, p.Webhooks.Object); ok {
				if m, ok := v.(map[string]any); ok {
					doc = m
				}
			}
		}
		cond, err := mapping.NewCondition(src, t.Webhook.Condition, 0)
		if err != nil {
			return fmt.Errorf("trigger %s: %w", name, err)
		}
		ok, err := cond.Match(doc)
		switch {
		case err != nil:
			fmt.Fprintf(w, "trigger %s: its condition failed on this event (%v): the engine treats that as not matching (outcome filtered)\n", name, err)
			continue
		case !ok:
			fmt.Fprintf(w, "trigger %s: condition %q is false for this event: nothing is written (outcome filtered)\n", name, t.Webhook.Condition)
			continue
		}
		matched++
		fmt.Fprintf(w, "trigger %s matches this %s event (%s %s)\n", name, typ, p.Name, src.Name)
		for _, a := range c.Actions {
			if a == nil || a.Trigger != name {
				continue
			}
			if err := dryRunAction(w, c, b, a, p, src, doc, reads); err != nil {
				return err
			}
		}
	}
	if matched == 0 {
		fmt.Fprintln(w, "no trigger matches: the event would be stored and end filtered or with no installation")
	}
	return nil
}

func dryRunAction(w io.Writer, c *spec.Contract, b *spec.Bundle, a *spec.Action, sp *spec.Provider, src *spec.Object, doc map[string]any,
	reads *offlineReads,
) error {
	tp := b.Providers[a.Provider]
	if tp == nil || tp.Objects[a.Object] == nil {
		return fmt.Errorf("action %s: provider %s has no object %s", a.Name, a.Provider, a.Object)
	}
	dst := tp.Objects[a.Object]
	fmt.Fprintf(w, "\naction %s: %s %s.%s\n", a.Name, a.Op, tp.Name, dst.Name)
	related, objs, err := reads.enrich(w, sp, a, doc)
	if err != nil {
		return err
	}
	m, err := mapping.New(a, src, dst, &mapping.Config{Skip: c.TargetOwned(a), Related: objs})
	if err != nil {
		return fmt.Errorf("action %s: %w", a.Name, err)
	}
	res, err := m.MapWith(doc, related)
	if err != nil {
		fmt.Fprintf(w, "  the mapping fails on this event: %v\n  the engine files a bad_data record error, nothing is sent\n", err)
		return nil
	}
	fmt.Fprintln(w, "  fields, and the row behind each:")
	for _, row := range a.Mapping {
		if row == nil {
			continue
		}
		v, ok := spec.Get(res.Doc, row.To)
		shown := "(not written: no value)"
		if ok {
			j, _ := json.Marshal(v)
			shown = string(j)
		}
		from := row.From
		switch {
		case row.Expr != "":
			from = row.Expr
		case from == "" && row.Default != nil:
			from = fmt.Sprintf("default %v", row.Default)
		}
		fmt.Fprintf(w, "    %s = %s   ← %s (%s:%d:%d)\n", row.To, shown, from, c.File, row.Meta.Pos.Line, row.Meta.Pos.Col)
	}
	base := strings.TrimRight(tp.ResolvedBaseURL(os.LookupEnv), "/")
	e := dst.Endpoints
	fmt.Fprintln(w, "  requests it would send (credentials redacted):")
	if lookup := connector.FirstEndpoint(e.Find, e.FindByExternalID); lookup != nil && a.Op != spec.OpUpdate {
		path, _ := connector.PreviewPath(lookup.Path, res.Doc, "{source id}")
		fmt.Fprintf(w, "    %s %s%s   (look the object up first: the link table, then this; found, it is updated instead of created)\n",
			lookup.Method, base, path)
	}
	ep := e.Create
	if a.Op == spec.OpUpdate || ep == nil {
		ep = e.Update
	}
	if ep == nil {
		fmt.Fprintln(w, "    (no endpoint for this operation)")
		return nil
	}
	path, used := connector.PreviewPath(ep.Path, res.Doc, "{linked id}")
	fields := map[string]any{}
	for k, v := range res.Doc {
		if !contains(used, k) { // a field that fills the path is not sent in the body
			fields[k] = v
		}
	}
	body := any(fields)
	if ep.Body != "" {
		body = map[string]any{ep.Body: fields}
	}
	j, _ := json.MarshalIndent(body, "      ", "  ")
	fmt.Fprintf(w, "    %s %s%s\n", ep.Method, base, path)
	fmt.Fprintf(w, "      %s\n", connector.RedactedAuth(tp))
	if ep.IdempotencyHeader != "" {
		fmt.Fprintf(w, "      %s: accord-… (one key per record and action: a retry is the same request)\n", ep.IdempotencyHeader)
	}
	for _, hs := range []map[string]string{tp.Headers, ep.Headers} {
		for _, name := range slices.Sorted(maps.Keys(hs)) {
			fmt.Fprintf(w, "      %s: %s\n", name, hs[name])
		}
	}
	if tp.BodyEncoding(ep) == spec.EncodingForm {
		// What goes on the wire, not the JSON the mapping produced.
		form, ct, err := connector.EncodeBody(tp, ep, body)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "      Content-Type: %s\n      %s\n", ct, form)
		return nil
	}
	fmt.Fprintf(w, "      %s\n", j)
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
