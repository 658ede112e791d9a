package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/packs"
)

// LoadCatalog loads the packs shipped in the binary, then every pack under
// dir (each subdirectory holding providers/ and contracts/): a pack there
// adds to the shipped ones, or replaces the shipped pack of the same
// directory name. dir "" loads only the shipped packs; a dir that does not
// exist, or holds no pack, is an error (it used to load nothing, silently).
// A pack with problems stops the start with every problem listed,
// file:line:col.
func LoadCatalog(dir string) (*engine.Catalog, error) { return loadCatalog(packs.FS, dir) }

type loadedPack struct {
	origin string // "shipped" or the directory
	bundle *spec.Bundle
}

func loadCatalog(shipped fs.FS, dir string) (*engine.Catalog, error) {
	byName := map[string]loadedPack{}
	entries, err := fs.ReadDir(shipped, ".")
	if err != nil {
		return nil, fmt.Errorf("reading shipped packs: %w", err)
	}
	var problems spec.Diagnostics
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		b, diags := spec.LoadDirFS(shipped, e.Name())
		problems = append(problems, diags...)
		byName[e.Name()] = loadedPack{origin: "shipped", bundle: b}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("loading shipped packs:\n%w", problems)
	}
	if dir != "" {
		names, err := packDirs(dir)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			b, diags := spec.LoadDir(filepath.Join(dir, name))
			problems = append(problems, diags...)
			byName[name] = loadedPack{origin: dir, bundle: b}
		}
		if len(problems) > 0 {
			return nil, fmt.Errorf("loading packs from %s:\n%w", dir, problems)
		}
	}

	cat := &engine.Catalog{Providers: map[string]*spec.Provider{}}
	names := make([]string, 0, len(byName))
	for name := range byName {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		b := byName[name].bundle
		for pname, p := range b.Providers {
			if prev, dup := cat.Providers[pname]; dup && prev.Meta.File != p.Meta.File {
				return nil, fmt.Errorf("provider %s is defined in both %s and %s", pname, prev.Meta.File, p.Meta.File)
			}
			cat.Providers[pname] = p
		}
		for _, c := range b.Contracts {
			// Several versions of a contract may be loaded (from several
			// pack directories): installations keep the one they run.
			if err := cat.Add(c); err != nil {
				return nil, err
			}
		}
	}
	return cat, nil
}

// packDirs lists the packs under dir: its subdirectories with providers/
// or contracts/.
func packDirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("packs directory %s does not exist (the shipped packs are built in; --packs adds to them)", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("reading packs: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		for _, sub := range []string{"providers", "contracts"} {
			if st, err := os.Stat(filepath.Join(dir, e.Name(), sub)); err == nil && st.IsDir() {
				names = append(names, e.Name())
				break
			}
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("packs directory %s holds no pack: each pack is a subdirectory with providers/ and contracts/ (see docs/wire-your-own-partner.md)", dir)
	}
	return names, nil
}
