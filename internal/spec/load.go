package spec

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Bundle is a set of providers, contracts and packs loaded together, with
// references between them resolved.
type Bundle struct {
	Providers map[string]*Provider
	Contracts map[string]*Contract
	Packs     map[string]*Pack
	// failed names the providers ("provider:crm") and contracts
	// ("contract:x") whose files exist but did not load: what refers to
	// them is not reported again, so the root cause stands alone.
	failed map[string]bool
}

func (b *Bundle) markFailed(kind, name string) {
	if b.failed == nil {
		b.failed = map[string]bool{}
	}
	b.failed[kind+":"+name] = true
}

// Provider returns the named provider or nil.
func (b *Bundle) Provider(name string) *Provider { return b.Providers[name] }

// ParseProvider decodes and validates one provider manifest.
func ParseProvider(file string, data []byte) (*Provider, Diagnostics) {
	p := &Provider{}
	d := parseInto(file, data, ProviderFormat, p)
	if d == nil {
		return nil, Diagnostics{{File: file, Line: 1, Col: 1, Message: "cannot read provider"}}
	}
	if len(d.diags) == 0 || p.Objects != nil {
		checkProvider(d, p)
	}
	d.diags.sort()
	return p, d.diags
}

// ParseContract decodes and validates one contract, without resolving its
// providers (see Resolve).
func ParseContract(file string, data []byte) (*Contract, Diagnostics) {
	c := &Contract{File: file}
	d := parseInto(file, data, ContractFormat, c)
	if d == nil {
		return nil, Diagnostics{{File: file, Line: 1, Col: 1, Message: "cannot read contract"}}
	}
	checkContract(d, c)
	d.diags.sort()
	return c, d.diags
}

// ParsePack decodes one pack.yaml.
func ParsePack(file string, data []byte) (*Pack, Diagnostics) {
	p := &Pack{}
	d := parseInto(file, data, PackFormat, p)
	if d == nil {
		return nil, Diagnostics{{File: file, Line: 1, Col: 1, Message: "cannot read pack"}}
	}
	d.diags.sort()
	return p, d.diags
}

func parseInto(file string, data []byte, format string, v any) *decoder {
	root, diags := parseFile(file, data)
	d := &decoder{file: file, diags: diags}
	if root == nil {
		return d
	}
	if got := formatOf(root); got != "" && got != format {
		d.errorf(root, "this is a %s file, expected %s", got, format)
		return d
	}
	d.decode(root, reflect.ValueOf(v).Elem(), 0)
	return d
}

// formatOf reads the `accord` key without decoding the rest.
func formatOf(root *yaml.Node) string {
	if root.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "accord" {
			return root.Content[i+1].Value
		}
	}
	return ""
}

// Resolve checks a contract's references into providers: provider, object,
// event and field names, and CEL expressions against the declared fields.
func Resolve(c *Contract, providers map[string]*Provider) Diagnostics {
	return resolve(c, providers, nil)
}

// resolve is Resolve staying quiet about references to providers that
// failed to load (failed["provider:name"]): their own errors say why.
func resolve(c *Contract, providers map[string]*Provider, failed map[string]bool) Diagnostics {
	d := &decoder{file: c.File, failed: failed}
	resolveContract(d, c, providers)
	d.diags.sort()
	return d.diags
}

func readFile(path string) ([]byte, Diagnostics) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Diagnostics{{File: path, Line: 0, Col: 0, Message: fmt.Sprintf("cannot read: %v", err)}}
	}
	return data, nil
}

// LoadProvider reads and validates a provider manifest file.
func LoadProvider(path string) (*Provider, Diagnostics) {
	data, diags := readFile(path)
	if diags != nil {
		return nil, diags
	}
	return ParseProvider(path, data)
}

// LoadContract reads and validates a contract file without resolving its
// providers; LoadDir and Lint resolve them.
func LoadContract(path string) (*Contract, Diagnostics) {
	data, diags := readFile(path)
	if diags != nil {
		return nil, diags
	}
	return ParseContract(path, data)
}

// LoadDir loads dir/providers/*.yaml, dir/contracts/*.yaml and dir/pack.yaml
// (when present) and resolves every reference. Files with errors are left
// out of the bundle; their diagnostics are returned root causes first:
// providers, then contracts, then the pack, each sorted by position. What
// refers to a file that failed to load is not reported again.
func LoadDir(dir string) (*Bundle, Diagnostics) { return loadDir(source{}, dir) }

// LoadDirFS is LoadDir reading dir inside fsys (the packs embedded in the
// binary); diagnostics name files by their path in fsys.
func LoadDirFS(fsys fs.FS, dir string) (*Bundle, Diagnostics) {
	return loadDir(source{fsys: fsys}, dir)
}

func loadDir(src source, dir string) (*Bundle, Diagnostics) {
	b := &Bundle{Providers: map[string]*Provider{}, Contracts: map[string]*Contract{}, Packs: map[string]*Pack{}}
	all := loadProviders(b, src, src.join(dir, "providers"))
	all.sort()
	var cdiags Diagnostics
	for _, f := range src.yamlFiles(src.join(dir, "contracts")) {
		cdiags = append(cdiags, addContract(b, src, f)...)
	}
	cdiags.sort()
	all = append(all, cdiags...)
	packFile := src.join(dir, "pack.yaml")
	if src.exists(packFile) {
		pdiags := addPack(b, src, packFile)
		pdiags.sort()
		all = append(all, pdiags...)
	}
	return b, all
}

// source is where pack files are read: the OS file system (fsys nil) or
// an fs.FS such as the embedded packs.
type source struct{ fsys fs.FS }

func (s source) read(name string) ([]byte, Diagnostics) {
	if s.fsys == nil {
		return readFile(name)
	}
	data, err := fs.ReadFile(s.fsys, name)
	if err != nil {
		return nil, Diagnostics{{File: name, Message: fmt.Sprintf("cannot read: %v", err)}}
	}
	return data, nil
}

func (s source) yamlFiles(dir string) []string {
	if s.fsys == nil {
		files, _ := yamlFiles(dir)
		return files
	}
	var out []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, _ := fs.Glob(s.fsys, path.Join(dir, pat))
		out = append(out, m...)
	}
	sort.Strings(out)
	return out
}

func (s source) exists(name string) bool {
	var err error
	if s.fsys == nil {
		_, err = os.Stat(name)
	} else {
		_, err = fs.Stat(s.fsys, name)
	}
	return err == nil
}

func (s source) join(elem ...string) string {
	if s.fsys == nil {
		return filepath.Join(elem...)
	}
	return path.Join(elem...)
}

func loadProviders(b *Bundle, src source, dir string) Diagnostics {
	var all Diagnostics
	for _, f := range src.yamlFiles(dir) {
		data, diags := src.read(f)
		var p *Provider
		if diags == nil {
			p, diags = ParseProvider(f, data)
		}
		all = append(all, diags...)
		if p == nil || p.Name == "" {
			continue
		}
		if prev, dup := b.Providers[p.Name]; dup {
			all = append(all, Diagnostic{File: f, Line: p.Meta.At("name").Line, Col: p.Meta.At("name").Col,
				Message: fmt.Sprintf("provider %s is also defined in %s", p.Name, prev.Meta.File)})
			continue
		}
		if len(diags) == 0 {
			b.Providers[p.Name] = p
		} else {
			b.markFailed("provider", p.Name)
		}
	}
	return all
}

func addContract(b *Bundle, src source, file string) Diagnostics {
	data, diags := src.read(file)
	if diags != nil {
		return diags
	}
	c, diags := ParseContract(file, data)
	if c == nil {
		return diags
	}
	diags = append(diags, resolve(c, b.Providers, b.failed)...)
	if c.Name != "" {
		if prev, dup := b.Contracts[c.Name]; dup && prev.File != c.File {
			diags = append(diags, Diagnostic{File: file, Line: c.Meta.At("name").Line, Col: c.Meta.At("name").Col,
				Message: fmt.Sprintf("contract %s is also defined in %s", c.Name, prev.File)})
		} else if len(diags) == 0 && !usesFailed(c, b.failed) {
			b.Contracts[c.Name] = c
		} else {
			b.markFailed("contract", c.Name)
		}
	}
	return diags
}

func addPack(b *Bundle, src source, file string) Diagnostics {
	data, diags := src.read(file)
	if diags != nil {
		return diags
	}
	p, diags := ParsePack(file, data)
	if p == nil {
		return diags
	}
	p.Dir = filepath.Dir(file)
	for _, name := range p.Contracts {
		if b.Contracts[name] == nil && !b.failed["contract:"+name] {
			pos := p.Meta.At("contracts")
			diags = append(diags, Diagnostic{File: file, Line: pos.Line, Col: pos.Col,
				Message: fmt.Sprintf("pack lists contract %s, which is not in %s/contracts%s", name, p.Dir, didYouMean(name, sortedKeys(b.Contracts)))})
		}
	}
	for _, r := range p.Recommended {
		c := b.Contracts[r.Contract]
		if c == nil && b.failed["contract:"+r.Contract] {
			continue // its own file says why it did not load
		}
		if c == nil {
			pos := r.Meta.At("contract")
			diags = append(diags, Diagnostic{File: file, Line: pos.Line, Col: pos.Col, Message: fmt.Sprintf("unknown contract %s", r.Contract)})
			continue
		}
		for _, key := range sortedKeys(r.Defaults) {
			if !hasRow(c, key) {
				pos := r.Meta.At("defaults")
				diags = append(diags, Diagnostic{File: file, Line: pos.Line, Col: pos.Col,
					Message: fmt.Sprintf("default %s does not name an action.field of contract %s", key, c.Name)})
			}
		}
	}
	if len(diags) == 0 && p.Name != "" {
		b.Packs[p.Name] = p
	}
	return diags
}

// usesFailed reports whether c names a provider that failed to load.
func usesFailed(c *Contract, failed map[string]bool) bool {
	for _, p := range c.Providers {
		if failed["provider:"+p] {
			return true
		}
	}
	return false
}

func hasRow(c *Contract, key string) bool {
	action, field, _ := strings.Cut(key, ".")
	for _, a := range c.Actions {
		if a != nil && a.Name == action {
			for _, r := range a.Mapping {
				if r != nil && r.To == field {
					return true
				}
			}
		}
	}
	return false
}

// LoadPackFile reads a pack.yaml.
func LoadPackFile(path string) (*Pack, Diagnostics) {
	data, diags := readFile(path)
	if diags != nil {
		return nil, diags
	}
	return ParsePack(path, data)
}

func yamlFiles(dir string) ([]string, error) {
	var out []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, err
		}
		out = append(out, m...)
	}
	sort.Strings(out)
	return out, nil
}

// Lint checks files and directories. A directory is loaded as by LoadDir
// (or, when it has no providers/ or contracts/ subdirectory, as a folder of
// YAML files). A contract's providers are found in ../providers/ next to
// its directory and in its own directory.
func Lint(paths ...string) Diagnostics {
	var all Diagnostics
	for _, path := range paths {
		st, err := os.Stat(path)
		if err != nil {
			all = append(all, Diagnostic{File: path, Message: fmt.Sprintf("cannot read: %v", err)})
			continue
		}
		if st.IsDir() {
			if isBundleDir(path) {
				b, diags := LoadDir(path)
				all = append(all, diags...) // already root causes first
				if len(diags) == 0 {
					all = append(all, unusedWarnings(b)...)
				}
				continue
			}
			files, _ := yamlFiles(path)
			var diags Diagnostics
			for _, f := range files {
				diags = append(diags, lintFile(f)...)
			}
			diags.sort()
			all = append(all, diags...)
			// A directory of packs (packs/): each pack in it, which used
			// to be skipped while lint said every file was fine.
			entries, _ := os.ReadDir(path)
			for _, e := range entries {
				if sub := filepath.Join(path, e.Name()); e.IsDir() && isBundleDir(sub) {
					all = append(all, Lint(sub)...)
				}
			}
			continue
		}
		all = append(all, lintFile(path)...)
	}
	return all
}

func isBundleDir(dir string) bool {
	for _, sub := range []string{"providers", "contracts"} {
		if st, err := os.Stat(filepath.Join(dir, sub)); err == nil && st.IsDir() {
			return true
		}
	}
	return false
}

func lintFile(path string) Diagnostics {
	data, diags := readFile(path)
	if diags != nil {
		return diags
	}
	root, _ := parseFile(path, data)
	format := ""
	if root != nil {
		format = formatOf(root)
	}
	switch format {
	case ProviderFormat:
		_, diags := ParseProvider(path, data)
		return diags
	case PackFormat:
		_, diags := ParsePack(path, data)
		return diags
	case ContractFormat:
		c, diags := ParseContract(path, data)
		b := &Bundle{Providers: map[string]*Provider{}}
		dir := filepath.Dir(path)
		// A provider this contract names that does not load is the root
		// cause of what follows: its problems come first, and references
		// to it are not reported again.
		pdiags := loadProviders(b, source{}, filepath.Join(dir, "..", "providers"))
		same := &Bundle{Providers: map[string]*Provider{}}
		loadSiblingProviders(same, dir)
		for name, p := range same.Providers {
			b.Providers[name] = p
			delete(b.failed, "provider:"+name)
		}
		var root Diagnostics
		if c != nil && usesFailed(c, b.failed) {
			pdiags.sort()
			root = pdiags
		}
		if c == nil {
			return diags
		}
		return append(append(root, diags...), resolve(c, b.Providers, b.failed)...)
	}
	if root != nil && format == "" {
		return Diagnostics{{File: path, Line: root.Line, Col: root.Column, Message: "missing `accord` key: say which format this is (provider/v1, contract/v1 or pack/v1)"}}
	}
	if root == nil {
		_, diags := parseFile(path, data)
		return diags
	}
	return Diagnostics{{File: path, Line: root.Line, Col: root.Column, Message: fmt.Sprintf("unknown format %q: use provider/v1, contract/v1 or pack/v1", format)}}
}

func loadSiblingProviders(b *Bundle, dir string) {
	files, _ := yamlFiles(dir)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if root, _ := parseFile(f, data); root == nil || formatOf(root) != ProviderFormat {
			continue
		}
		if p, diags := ParseProvider(f, data); len(diags) == 0 {
			b.Providers[p.Name] = p
		}
	}
}
