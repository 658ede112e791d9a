package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/accordhq/accord/internal/catalogcheck"
	"github.com/accordhq/accord/internal/spec"
)

func init() {
	register(&command{
		name:    "provider import",
		summary: "scaffold a provider manifest for one object of a vendor's OpenAPI document",
		usage:   "--openapi SPEC --object NAME [--name PROVIDER] [-o FILE]",
		example: "accord provider import --openapi intercom-openapi.yaml --object contact --name intercom -o providers/intercom.yaml",
		setup: func(fs *flag.FlagSet, env *Env) runFunc {
			openapi := fs.String("openapi", "", "the vendor's OpenAPI 3 or Swagger 2.0 document (JSON or YAML)")
			object := fs.String("object", "", "the schema to describe, e.g. contact (see the document's components/schemas)")
			name := fs.String("name", "", "the provider's machine name (default: from the document's title)")
			out := fs.String("o", "", "write the manifest to FILE instead of stdout (an existing file is not overwritten)")
			return func(ctx context.Context, args []string) error {
				if *openapi == "" || *object == "" || len(args) > 0 {
					return errors.New("name the document and the object, e.g. accord provider import --openapi vendor.json --object contact")
				}
				doc, err := catalogcheck.LoadDocument(*openapi)
				if err != nil {
					return err
				}
				manifest, err := catalogcheck.Scaffold(doc, catalogcheck.ScaffoldOptions{Object: *object, Provider: *name})
				if err != nil {
					return err
				}
				file := *out
				if file == "" {
					file = "scaffold.yaml"
				}
				// What we scaffold must lint: say so rather than hand
				// the author a broken start.
				if _, diags := spec.ParseProvider(file, manifest); len(diags) > 0 {
					for _, d := range diags {
						fmt.Fprintln(env.Stderr, d.String())
					}
					return fmt.Errorf("the scaffold for %s does not lint; please report it with the document", *object)
				}
				if *out == "" {
					_, err := env.Stdout.Write(manifest)
					return err
				}
				f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
				if err != nil {
					return fmt.Errorf("writing the manifest: %w", err)
				}
				if _, err := f.Write(manifest); err != nil {
					_ = f.Close()
					return fmt.Errorf("writing the manifest: %w", err)
				}
				if err := f.Close(); err != nil {
					return fmt.Errorf("writing the manifest: %w", err)
				}
				fmt.Fprintf(env.Stdout, "wrote %s; check it with: accord contract check --openapi %s %s\n", *out, *openapi, *out)
				return nil
			}
		},
	})
}
