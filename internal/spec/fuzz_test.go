package spec

import (
	"os"
	"path/filepath"
	"testing"
)

func seed(f *testing.F, glob string) {
	files, _ := filepath.Glob(glob)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a: &a [*a, *a]\nb: *a\n"))
	f.Add([]byte("accord: contract/v1\nactions: [{mapping: [{to: x, expr: '((('}]}]\n"))
}

func FuzzParseContract(f *testing.F) {
	seed(f, filepath.Join(packDir, "contracts", "*.yaml"))
	seed(f, "testdata/lint/*.yaml")
	providers := map[string]*Provider{}
	files, _ := filepath.Glob(filepath.Join(packDir, "providers", "*.yaml"))
	for _, file := range files {
		if p, diags := LoadProvider(file); len(diags) == 0 {
			providers[p.Name] = p
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _ := ParseContract("fuzz.yaml", data)
		if c != nil {
			Resolve(c, providers)
			Explain(c, &Bundle{Providers: providers})
		}
	})
}

func FuzzParseProvider(f *testing.F) {
	seed(f, filepath.Join(packDir, "providers", "*.yaml"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, _ := ParseProvider("fuzz.yaml", data)
		if p != nil {
			p.Classify(500, data)
		}
	})
}
