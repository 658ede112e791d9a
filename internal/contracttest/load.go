package contracttest

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/packs"
)

// Catalog returns the provider catalog shipped in the binary
// (packs/catalog), which a contract names without writing a manifest.
func Catalog() (map[string]*spec.Provider, error) {
	b, diags := spec.LoadDirFS(packs.FS, "catalog")
	if err := diags.Err(); err != nil {
		return nil, fmt.Errorf("loading the provider catalog: %w", err)
	}
	return b.Providers, nil
}

// LoadContract loads a contract and the providers it may name: its pack's
// (DIR/providers when the contract is in DIR/contracts) over catalog's.
// The contract is checked against them as lint checks it.
func LoadContract(file string, catalog map[string]*spec.Provider) (*spec.Contract, map[string]*spec.Provider, spec.Diagnostics) {
	providers := maps.Clone(catalog)
	if providers == nil {
		providers = map[string]*spec.Provider{}
	}
	dir := filepath.Dir(file)
	if filepath.Base(dir) == "contracts" {
		files, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), "providers", "*.yaml"))
		for _, f := range files {
			p, diags := spec.LoadProvider(f)
			if len(diags) > 0 {
				return nil, nil, diags
			}
			providers[p.Name] = p
		}
	}
	c, diags := spec.LoadContract(file)
	if len(diags) > 0 {
		return nil, nil, diags
	}
	if diags := spec.Resolve(c, providers); len(diags) > 0 {
		return nil, nil, diags
	}
	return c, providers, nil
}

// RunFile loads a test file and its contract and runs it; catalog is the
// provider catalog (Catalog). Problems in the files come back as
// diagnostics, the cases' results as the report.
func RunFile(ctx context.Context, file string, catalog map[string]*spec.Provider, cfg *Config) (*Report, spec.Diagnostics, error) {
	s, diags := LoadSuite(file)
	if len(diags) > 0 {
		return nil, diags, nil
	}
	c, providers, diags := LoadContract(s.Contract, catalog)
	if len(diags) > 0 {
		return nil, diags, nil
	}
	run := *cfg
	run.Providers = providers
	rep, err := Run(ctx, s, c, &run)
	return rep, nil, err
}

// FindSuites returns the test files (`accord: test/v1`) under each path,
// in lexical order; a file path is taken as it is.
func FindSuites(paths ...string) ([]string, error) {
	var out []string
	for _, root := range paths {
		st, err := os.Stat(root)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, root)
			continue
		}
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				return nil
			}
			if isSuite(path) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func isSuite(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var head struct {
		Accord string `yaml:"accord"`
	}
	return yaml.Unmarshal(data, &head) == nil && head.Accord == Format
}
