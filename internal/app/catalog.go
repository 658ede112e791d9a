package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/spec"
)

// LoadCatalog loads every pack under dir (each subdirectory holding
// providers/ and contracts/). A missing dir is an empty catalog; a pack with
// problems stops the start with every problem listed, file:line:col.
func LoadCatalog(dir string) (*engine.Catalog, error) {
	cat := &engine.Catalog{Providers: map[string]*spec.Provider{}}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return cat, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading packs: %w", err)
	}
	var problems spec.Diagnostics
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		b, diags := spec.LoadDir(filepath.Join(dir, e.Name()))
		problems = append(problems, diags...)
		for name, p := range b.Providers {
			if prev, dup := cat.Providers[name]; dup && prev.Meta.File != p.Meta.File {
				return nil, fmt.Errorf("provider %s is defined in both %s and %s", name, prev.Meta.File, p.Meta.File)
			}
			cat.Providers[name] = p
		}
		for _, c := range b.Contracts {
			// Several versions of a contract may be loaded (from several
			// pack directories): installations keep the one they run.
			if err := cat.Add(c); err != nil {
				return nil, err
			}
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("loading packs from %s:\n%w", dir, problems)
	}
	return cat, nil
}
