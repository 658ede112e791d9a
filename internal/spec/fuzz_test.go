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
		c, diags := ParseContract("fuzz.yaml", data)
		if c != nil {
			diags = append(diags, Resolve(c, providers)...)
			Explain(c, &Bundle{Providers: providers})
		}
		requirePositions(t, diags)
	})
}

func FuzzParseProvider(f *testing.F) {
	seed(f, filepath.Join(packDir, "providers", "*.yaml"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, diags := ParseProvider("fuzz.yaml", data)
		if p != nil {
			p.Classify(500, data)
		}
		requirePositions(t, diags)
	})
}

// requirePositions fails on a diagnostic that points nowhere (file:0:0):
// every problem has a nearest node to point at.
func requirePositions(t *testing.T, diags Diagnostics) {
	t.Helper()
	for _, d := range diags {
		if d.Line < 1 || d.Col < 1 {
			t.Fatalf("diagnostic without a position: %s", d)
		}
	}
}
