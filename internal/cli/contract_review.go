package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/accordhq/accord/internal/review"
	"github.com/accordhq/accord/internal/spec"
)

func init() {
	register(&command{
		name:    "contract review",
		summary: "write a pack's app-review document for a partner marketplace (markdown and JSON)",
		usage:   "[--out DIR] [--public-url URL] [--event-retention DURATION] PACK",
		example: "accord contract review --out review --public-url https://accord.example.com packs/support-escalation",
		setup: func(fs *flag.FlagSet, env *Env) runFunc {
			out := fs.String("out", ".", "directory the PACK.review.md and PACK.review.json files are written to")
			publicURL := fs.String("public-url", "", "the deployment's public URL (its TLS answer)")
			eventRetention := fs.Duration("event-retention", 0, "how long delivered events are kept (default: Accord's, 7 days)")
			return func(ctx context.Context, args []string) error {
				if len(args) != 1 {
					return errors.New("name one pack directory, e.g. accord contract review packs/support-escalation")
				}
				b, diags := spec.LoadDir(args[0])
				if len(diags) > 0 {
					for _, d := range diags {
						fmt.Fprintln(env.Stderr, d.String())
					}
					return ExitError{Code: 1}
				}
				if len(b.Packs) != 1 {
					return fmt.Errorf("%s holds %d packs (pack.yaml); name one pack directory", args[0], len(b.Packs))
				}
				p := b.Packs[slices.Collect(maps.Keys(b.Packs))[0]]
				doc := review.Pack(p, b, review.DocumentOptions{PublicURL: *publicURL, Options: review.Options{EventRetention: *eventRetention}})
				raw, err := json.MarshalIndent(doc, "", "  ")
				if err != nil {
					return err
				}
				if err := os.MkdirAll(*out, 0o755); err != nil {
					return err
				}
				md := filepath.Join(*out, p.Name+".review.md")
				js := filepath.Join(*out, p.Name+".review.json")
				if err := os.WriteFile(md, []byte(doc.Markdown()), 0o644); err != nil {
					return err
				}
				if err := os.WriteFile(js, append(raw, '\n'), 0o644); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "wrote %s and %s\n", md, js)
				for _, m := range doc.Missing {
					fmt.Fprintf(env.Stderr, "missing: %s\n", m)
				}
				return nil
			}
		},
	})
}
