package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/accordhq/accord/internal/spec"
)

func init() {
	register(&command{
		name:    "contract lint",
		summary: "check providers, contracts and packs; one file:line:col line per problem",
		usage:   "FILE|DIR...",
		example: "accord contract lint packs/support-escalation",
		setup: func(fs *flag.FlagSet, env *Env) runFunc {
			return func(ctx context.Context, args []string) error {
				if len(args) == 0 {
					return errors.New("name at least one file or directory, e.g. accord contract lint packs/support-escalation")
				}
				diags := spec.Lint(args...)
				for _, d := range diags {
					fmt.Fprintln(env.Stdout, d.String())
				}
				if errs := len(diags) - diags.Warnings(); errs > 0 {
					fmt.Fprintf(env.Stderr, "%d problem%s found\n", errs, plural(errs))
					return ExitError{Code: 1}
				}
				files := countYAML(args)
				if w := diags.Warnings(); w > 0 {
					fmt.Fprintf(env.Stdout, "ok: %d file%s checked, %d warning%s\n", files, plural(files), w, plural(w))
					return nil
				}
				fmt.Fprintf(env.Stdout, "ok: %d file%s checked, no problems\n", files, plural(files))
				return nil
			}
		},
	})
	register(&command{
		name:    "contract explain",
		summary: "say in plain language what a contract will do",
		usage:   "FILE",
		example: "accord contract explain packs/support-escalation/contracts/escalation.yaml",
		setup: func(fs *flag.FlagSet, env *Env) runFunc {
			return func(ctx context.Context, args []string) error {
				if len(args) != 1 {
					return errors.New("name one contract file, e.g. accord contract explain packs/support-escalation/contracts/escalation.yaml")
				}
				c, b, diags := loadContractInPack(args[0])
				if len(diags) > 0 {
					for _, d := range diags {
						fmt.Fprintln(env.Stderr, d.String())
					}
					return ExitError{Code: 1}
				}
				fmt.Fprint(env.Stdout, spec.Explain(c, b))
				return nil
			}
		},
	})
}

// loadContractInPack loads the pack a contract file belongs to (its
// providers are in ../providers) and returns the contract from it.
func loadContractInPack(path string) (*spec.Contract, *spec.Bundle, spec.Diagnostics) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, spec.Diagnostics{{File: path, Message: err.Error()}}
	}
	dir := filepath.Dir(abs)
	root := dir
	if filepath.Base(dir) == "contracts" {
		root = filepath.Dir(dir)
	}
	b, diags := spec.LoadDir(root)
	var mine spec.Diagnostics
	for _, d := range diags {
		if sameFile(d.File, abs) {
			mine = append(mine, d)
		}
	}
	if len(mine) > 0 {
		return nil, nil, mine
	}
	for _, c := range b.Contracts {
		if sameFile(c.File, abs) {
			return c, b, nil
		}
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, nil, spec.Diagnostics{{File: path, Message: fmt.Sprintf("cannot read: %v", err)}}
	}
	if len(diags) > 0 {
		return nil, nil, diags
	}
	return nil, nil, spec.Diagnostics{{File: path, Line: 1, Col: 1,
		Message: "not a contract of a pack: put it in DIR/contracts/ with its providers in DIR/providers/"}}
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

func countYAML(paths []string) int {
	n := 0
	for _, p := range paths {
		_ = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				n++
			}
			return nil
		})
	}
	return n
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
