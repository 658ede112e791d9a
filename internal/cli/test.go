package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/accordhq/accord/internal/contracttest"
)

func init() {
	register(&command{
		name:    "test",
		summary: "run contract tests: webhook events through the engine against mock partners made from the manifests, or recorded exchanges",
		usage:   "[--record --connection PROVIDER=BASE_URL...] [DIR|FILE...]",
		example: "accord test docs/examples/stripe-to-hubspot",
		setup: func(fs *flag.FlagSet, env *Env) runFunc {
			record := fs.Bool("record", false, "send the cases that name a cassette to the --connection sandboxes and write what they answer to the cassette (credentials redacted)")
			conns := sandboxFlag{}
			fs.Var(conns, "connection", "PROVIDER=BASE_URL of a sandbox account to record from (repeatable); its credential is read from "+sandboxEnv("PROVIDER"))
			loopback := fs.Bool("allow-loopback-partners", envBool(env, "ACCORD_ALLOW_LOOPBACK_PARTNERS"), "let a sandbox be on 127.0.0.0/8 or ::1 (simulators, local fakes)")
			return func(ctx context.Context, args []string) error {
				if len(args) == 0 {
					args = []string{"."}
				}
				if len(conns) > 0 && !*record {
					return errors.New("--connection is for --record: without it, cases run against mock partners or replay their cassettes")
				}
				sandboxes, err := conns.sandboxes(env)
				if err != nil {
					return err
				}
				files, err := contracttest.FindSuites(args...)
				if err != nil {
					return err
				}
				if len(files) == 0 {
					return fmt.Errorf("no test files (accord: %s) under %s: see docs/testing-contracts.md", contracttest.Format, strings.Join(args, " "))
				}
				catalog, err := contracttest.Catalog()
				if err != nil {
					return err
				}
				cfg := &contracttest.Config{Record: *record, Sandboxes: sandboxes, AllowLoopback: *loopback}
				var cases, failed, broken int
				for _, f := range files {
					fmt.Fprintf(env.Stdout, "=== %s\n", f)
					rep, diags, err := contracttest.RunFile(ctx, f, catalog, cfg)
					if err != nil {
						return err
					}
					if len(diags) > 0 {
						for _, d := range diags {
							fmt.Fprintln(env.Stdout, d.String())
						}
						broken++
						continue
					}
					rep.Print(env.Stdout)
					cases += len(rep.Cases)
					failed += rep.Failed()
				}
				switch {
				case failed > 0 || broken > 0:
					fmt.Fprintf(env.Stderr, "FAIL: %d of %d case%s failed", failed, cases, plural(cases))
					if broken > 0 {
						fmt.Fprintf(env.Stderr, ", %d file%s could not run", broken, plural(broken))
					}
					fmt.Fprintln(env.Stderr)
					return ExitError{Code: 1}
				}
				fmt.Fprintf(env.Stdout, "ok: %d case%s passed in %d file%s\n", cases, plural(cases), len(files), plural(len(files)))
				return nil
			}
		},
	})
}

// sandboxFlag collects --connection PROVIDER=BASE_URL.
type sandboxFlag map[string]string

func (s sandboxFlag) String() string {
	parts := make([]string, 0, len(s))
	for k, v := range s {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (s sandboxFlag) Set(v string) error {
	name, base, ok := strings.Cut(v, "=")
	u, err := url.Parse(base)
	if !ok || name == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: write PROVIDER=BASE_URL, e.g. hubspot=https://api.hubapi.com", v)
	}
	s[name] = base
	return nil
}

// sandboxes pairs each connection with its credential from the
// environment: a secret on the command line would show in ps and shell
// history.
func (s sandboxFlag) sandboxes(env *Env) (map[string]contracttest.Sandbox, error) {
	out := map[string]contracttest.Sandbox{}
	for name, base := range s {
		secret, ok := env.Getenv(sandboxEnv(name))
		if !ok || secret == "" {
			return nil, fmt.Errorf("--connection %s: set %s to the sandbox's credential (token or API key; user:password for basic auth)", name, sandboxEnv(name))
		}
		out[name] = contracttest.Sandbox{BaseURL: base, Secret: secret}
	}
	return out, nil
}

// sandboxEnv is the variable holding a sandbox connection's credential.
func sandboxEnv(provider string) string {
	return "ACCORD_SANDBOX_" + strings.NewReplacer("-", "_", ".", "_").Replace(strings.ToUpper(provider)) + "_TOKEN"
}

func envBool(env *Env, name string) bool {
	if env == nil || env.Getenv == nil {
		return false
	}
	v, _ := env.Getenv(name)
	b, _ := strconv.ParseBool(v)
	return b
}
