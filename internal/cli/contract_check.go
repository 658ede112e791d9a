package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/accordhq/accord/internal/catalogcheck"
	"github.com/accordhq/accord/internal/spec"
)

func init() {
	register(&command{
		name:    "contract check",
		summary: "compare provider manifests with the vendor's OpenAPI document; one file:line:col line per drift",
		usage:   "--openapi SPEC PROVIDER.yaml...",
		example: "accord contract check --openapi stripe-openapi-spec3.yaml packs/catalog/providers/stripe.yaml",
		setup: func(fs *flag.FlagSet, env *Env) runFunc {
			openapi := fs.String("openapi", "", "the vendor's OpenAPI 3 or Swagger 2.0 document (JSON or YAML)")
			return func(ctx context.Context, args []string) error {
				if *openapi == "" || len(args) == 0 {
					return errors.New("name the vendor's document and at least one provider manifest, e.g. accord contract check --openapi vendor.json providers/x.yaml")
				}
				doc, err := catalogcheck.LoadDocument(*openapi)
				if err != nil {
					return err
				}
				var all spec.Diagnostics
				for _, path := range args {
					p, diags := spec.LoadProvider(path)
					if len(diags) > 0 {
						// Drift is measured on a manifest that lints.
						all = append(all, diags...)
						continue
					}
					all = append(all, catalogcheck.Check(p, doc)...)
				}
				for _, d := range all {
					fmt.Fprintln(env.Stdout, d.String())
				}
				if len(all) > 0 {
					fmt.Fprintf(env.Stderr, "%d difference%s from %s\n", len(all), plural(len(all)), *openapi)
					return ExitError{Code: 1}
				}
				fmt.Fprintf(env.Stdout, "ok: no drift in %d manifest%s against %s\n", len(args), plural(len(args)), *openapi)
				return nil
			}
		},
	})
}
