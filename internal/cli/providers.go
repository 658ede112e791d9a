package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/accordhq/accord/internal/spec"
)

func init() {
	register(&command{
		name:    "providers list",
		summary: "list the providers in the packs: the catalog and each pack's own",
		usage:   "[--packs DIR]",
		example: "accord providers list",
		setup: func(fs *flag.FlagSet, env *Env) runFunc {
			packs := fs.String("packs", defaultPacks(env), "directory of packs (each with providers/); the catalog is packs/catalog (default: $ACCORD_PACKS, else packs)")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return fmt.Errorf("unexpected argument %q: accord providers list takes no arguments", args[0])
				}
				providers, err := loadPackProviders(*packs, env)
				if err != nil {
					return err
				}
				printProviderList(env.Stdout, providers)
				return nil
			}
		},
	})
	register(&command{
		name:    "providers show",
		summary: "show one provider: auth, scopes, rate limit, webhooks, objects and their endpoints",
		usage:   "[--packs DIR] NAME",
		example: "accord providers show hubspot",
		setup: func(fs *flag.FlagSet, env *Env) runFunc {
			packs := fs.String("packs", defaultPacks(env), "directory of packs (each with providers/); the catalog is packs/catalog (default: $ACCORD_PACKS, else packs)")
			return func(ctx context.Context, args []string) error {
				if len(args) != 1 {
					return errors.New("name one provider, e.g. accord providers show stripe (accord providers list shows them all)")
				}
				providers, err := loadPackProviders(*packs, env)
				if err != nil {
					return err
				}
				p := providers[args[0]]
				if p == nil {
					names := slices.Sorted(func(yield func(string) bool) {
						for n := range providers {
							if !yield(n) {
								return
							}
						}
					})
					return fmt.Errorf("no provider %q in %s; there are: %s", args[0], *packs, strings.Join(names, ", "))
				}
				printProvider(env.Stdout, p)
				return nil
			}
		},
	})
}

// defaultPacks is the packs directory accord serve would load: the
// ACCORD_PACKS variable, else ./packs.
func defaultPacks(env *Env) string {
	if env.Getenv != nil {
		if v, ok := env.Getenv("ACCORD_PACKS"); ok && v != "" {
			return v
		}
	}
	return "packs"
}

// loadPackProviders loads the providers of every pack under dir. Files
// with problems are reported on stderr and left out; a missing dir is an
// error, not an empty list.
func loadPackProviders(dir string, env *Env) (map[string]*spec.Provider, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading packs: %w (point --packs at the packs directory)", err)
	}
	out := map[string]*spec.Provider{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		b, diags := spec.LoadDir(filepath.Join(dir, e.Name()))
		for _, d := range diags {
			fmt.Fprintln(env.Stderr, d.String())
		}
		for name, p := range b.Providers {
			if prev, dup := out[name]; dup {
				fmt.Fprintf(env.Stderr, "provider %s is defined in both %s and %s; showing the first\n", name, prev.Meta.File, p.Meta.File)
				continue
			}
			out[name] = p
		}
	}
	return out, nil
}

func printProviderList(w io.Writer, providers map[string]*spec.Provider) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTITLE\tAUTH\tOBJECTS\tEVENTS\tRATE LIMIT")
	for _, name := range sortedNames(providers) {
		p := providers[name]
		events := 0
		if p.Webhooks != nil {
			events = len(p.Webhooks.Events)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", p.Name, p.Title, p.Auth.Kind, strings.Join(sortedNames(p.Objects), ", "), events, rateLimit(p.RateLimit))
	}
	_ = tw.Flush()
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func rateLimit(r *spec.RateLimit) string {
	if r == nil {
		return "-"
	}
	burst := r.Burst
	if burst == 0 {
		burst = int(r.RequestsPerSecond + 0.999)
	}
	return fmt.Sprintf("%g/s (burst %d)", r.RequestsPerSecond, burst)
}

func printProvider(w io.Writer, p *spec.Provider) {
	title := p.Title
	if title == "" {
		title = p.Name
	}
	fmt.Fprintf(w, "%s (%s)\n  file:        %s\n  base url:    %s\n", title, p.Name, p.Meta.File, p.BaseURL)
	if v := p.APIVersion; v != nil {
		fmt.Fprintf(w, "  api version: %s", v.Version)
		if v.Header != "" {
			fmt.Fprintf(w, " (sent in %s)", v.Header)
		}
		if v.DeprecationHeader != "" {
			fmt.Fprintf(w, "; deprecation announced in %s", v.DeprecationHeader)
		}
		fmt.Fprintln(w)
	}
	if p.Encoding != "" {
		fmt.Fprintf(w, "  encoding:    %s (request bodies)\n", p.Encoding)
	}
	for _, name := range sortedNames(p.Settings) {
		// What the tenant is asked for when connecting.
		st := p.Settings[name]
		format := st.Format
		if format == "" {
			format = spec.SettingText
		}
		fmt.Fprintf(w, "  setting:     %s (%s): %s\n", name, format, st.Description)
	}
	fmt.Fprintf(w, "  auth:        %s\n", describeAuth(&p.Auth))
	fmt.Fprintf(w, "  rate limit:  %s\n", rateLimit(p.RateLimit))
	if pg := p.Pagination; pg != nil {
		fmt.Fprintf(w, "  pagination:  %s", pg.Style)
		if pg.Param != "" {
			fmt.Fprintf(w, " (%s", pg.Param)
			if pg.LimitParam != "" {
				fmt.Fprintf(w, ", %s=%d", pg.LimitParam, pg.Limit)
			}
			fmt.Fprint(w, ")")
		}
		fmt.Fprintln(w)
	}
	if len(p.Scopes) > 0 {
		fmt.Fprintln(w, "\nScopes:")
		for _, s := range p.Scopes {
			fmt.Fprintf(w, "  %-30s %s\n", s.Name, s.Description)
		}
	}
	if wh := p.Webhooks; wh != nil {
		fmt.Fprintf(w, "\nWebhooks: signed with the %s scheme", wh.Signature.Scheme)
		if wh.Signature.Header != "" {
			fmt.Fprintf(w, " in %s", wh.Signature.Header)
		}
		fmt.Fprintf(w, "; event type at %s, object id at %s", wh.EventType, wh.ObjectID)
		if wh.Batched() {
			fmt.Fprintf(w, "; up to %d events per body, in the array at %s", wh.EffectiveMaxBatch(), wh.Batch)
		}
		fmt.Fprintln(w)
		for _, name := range sortedNames(wh.Events) {
			ev := wh.Events[name]
			fmt.Fprintf(w, "  %-36s %s: %s\n", name, ev.Object, ev.Description)
		}
	}
	if e := p.Errors; e != nil && len(e.Rules) > 0 {
		fmt.Fprintln(w, "\nErrors:")
		for _, r := range e.Rules {
			var codes []string
			for _, s := range r.Status {
				if s.Lo == s.Hi {
					codes = append(codes, fmt.Sprint(s.Lo))
				} else if s.Hi-s.Lo == 99 && s.Lo%100 == 0 {
					codes = append(codes, fmt.Sprintf("%dxx", s.Lo/100))
				} else {
					codes = append(codes, fmt.Sprintf("%d-%d", s.Lo, s.Hi))
				}
			}
			line := strings.Join(codes, ", ")
			if r.BodyContains != "" {
				line += " with body " + r.BodyContains
			}
			fmt.Fprintf(w, "  %-36s %s\n", line, r.Class)
		}
	}
	fmt.Fprintln(w, "\nObjects:")
	for _, name := range sortedNames(p.Objects) {
		o := p.Objects[name]
		fmt.Fprintf(w, "  %s", name)
		if o.Description != "" {
			fmt.Fprintf(w, ": %s", o.Description)
		}
		fmt.Fprintln(w)
		e := o.Endpoints
		for _, ep := range []struct {
			key string
			ep  *spec.Endpoint
		}{{"list", e.List}, {"get", e.Get}, {"create", e.Create}, {"update", e.Update}, {"delete", e.Delete}, {"find", e.FindByExternalID}} {
			if ep.ep != nil {
				fmt.Fprintf(w, "    %-8s %-6s %s\n", ep.key, ep.ep.Method, ep.ep.Path)
			}
		}
		printFields(w, "    ", "", o.Fields)
	}
}

func printFields(w io.Writer, indent, prefix string, fields map[string]*spec.Field) {
	for _, name := range sortedNames(fields) {
		f := fields[name]
		var notes []string
		if f.Required {
			notes = append(notes, "required")
		}
		if f.ReadOnly {
			notes = append(notes, "read-only")
		}
		if len(f.Enum) > 0 {
			vals := make([]string, len(f.Enum))
			for i, v := range f.Enum {
				vals[i] = fmt.Sprint(v)
			}
			notes = append(notes, "one of "+strings.Join(vals, ", "))
		}
		line := fmt.Sprintf("%s%-30s %s", indent, prefix+name, f.Type)
		if len(notes) > 0 {
			line += " (" + strings.Join(notes, "; ") + ")"
		}
		if f.Description != "" {
			line += ": " + strings.Join(strings.Fields(f.Description), " ")
		}
		fmt.Fprintln(w, line)
		printFields(w, indent, prefix+name+".", f.Fields)
	}
}

func describeAuth(a *spec.Auth) string {
	switch a.Kind {
	case spec.AuthAPIKey:
		where := "header " + a.Header
		if a.QueryParam != "" {
			where = "query parameter " + a.QueryParam
		} else if a.Header == "" {
			where = "header Authorization"
		}
		if a.Prefix != "" {
			where += fmt.Sprintf(" after %q", a.Prefix)
		}
		return "api_key in " + where
	case spec.AuthOAuth2Code:
		return fmt.Sprintf("oauth2_code (authorize %s, token %s; client from $%s)", a.AuthorizeURL, a.TokenURL, a.ClientIDEnv)
	case spec.AuthOAuth2ClientCredentials, spec.AuthJWTBearer:
		return fmt.Sprintf("%s (token %s)", a.Kind, a.TokenURL)
	}
	return a.Kind
}
