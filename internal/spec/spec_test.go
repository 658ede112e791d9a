package spec

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite golden files and schema/*.json")

const packDir = "../../packs/support-escalation"

func loadPack(t *testing.T) *Bundle {
	t.Helper()
	b, diags := LoadDir(packDir)
	require.Empty(t, diags, diags.Error())
	return b
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run: go test ./internal/spec -update")
	require.Equal(t, string(want), got, "golden %s differs; if the change is intended run: go test ./internal/spec -update", path)
}

func TestShippedPackLintsClean(t *testing.T) {
	t.Parallel()
	b := loadPack(t)
	require.Len(t, b.Providers, 3)
	require.Contains(t, b.Contracts, "escalation")
	require.Contains(t, b.Packs, "support-escalation")

	require.Empty(t, Lint(packDir))
	// A lone contract finds its providers in ../providers.
	require.Empty(t, Lint(filepath.Join(packDir, "contracts", "escalation.yaml")))
	require.Empty(t, Lint(filepath.Join(packDir, "providers")))
}

func TestLintGolden(t *testing.T) {
	t.Parallel()
	b := loadPack(t)
	c, diags := LoadContract("testdata/lint/escalation_bad.yaml")
	diags = append(diags, Resolve(c, b.Providers)...)
	lines := strings.Split(diags.Error(), "\n")
	require.Len(t, lines, 3, diags.Error())
	golden(t, "lint/escalation_bad.golden", diags.Error()+"\n")
}

// TestLintGoldenFiles lints every testdata/lint/*.yaml contract against the
// shipped pack's providers and compares the diagnostics with its .golden
// file. Each file is one kind of hostile or mistaken input; every
// diagnostic must point into the file (no line 0), and whatever lint
// passes must also explain and resolve without a panic.
func TestLintGoldenFiles(t *testing.T) {
	t.Parallel()
	b := loadTestProviders(t)
	files, err := filepath.Glob("testdata/lint/*.yaml")
	require.NoError(t, err)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, diags := LoadContract(file)
			if c != nil {
				diags = append(diags, Resolve(c, b.Providers)...)
				if len(diags) == 0 {
					Explain(c, b)
				}
			}
			require.NotEmpty(t, diags, "%s must not lint clean", file)
			for _, d := range diags {
				require.Positive(t, d.Line, "%s: no position", d)
				require.Positive(t, d.Col, "%s: no position", d)
			}
			golden(t, "lint/"+name+".golden", diags.Error()+"\n")
		})
	}
}

// loadTestProviders is the shipped pack plus testdata/providers: partners
// with traits the shipped ones lack (no idempotency on create).
func loadTestProviders(t *testing.T) *Bundle {
	t.Helper()
	b := loadPack(t)
	files, err := filepath.Glob("testdata/providers/*.yaml")
	require.NoError(t, err)
	billing, err := filepath.Glob("../../packs/billing-to-crm/providers/*.yaml")
	require.NoError(t, err)
	for _, f := range append(files, billing...) {
		p, diags := LoadProvider(f)
		require.Empty(t, diags, diags.Error())
		b.Providers[p.Name] = p
	}
	return b
}

func TestExplainDuplicatesTolerated(t *testing.T) {
	t.Parallel()
	b := loadTestProviders(t)
	c, diags := LoadContract("testdata/explain/duplicates_tolerated.yaml")
	diags = append(diags, Resolve(c, b.Providers)...)
	require.Empty(t, diags, diags.Error())
	got := Explain(c, b)
	require.Contains(t, got, "Duplicates are possible: if Notes does not confirm a write and Accord retries it, the same note can be created twice (accepted because: a second note on the same ticket is noise, not harm).")
	golden(t, "explain/duplicates_tolerated.golden", got)
}

func TestExplainGolden(t *testing.T) {
	t.Parallel()
	b := loadPack(t)
	got := Explain(b.Contracts["escalation"], b)
	require.Contains(t, got, "When a ticket in Helpdesk changes to Escalated, Accord creates an incident in Incidents with: title ← ticket title; severity ← ticket priority (low→3, med→2, high→1; 2 if missing)")
	require.Contains(t, got, "Incident status is owned by Incidents and never written.")
	require.Contains(t, got, "Failed writes are retried for 24 hours, then an admin is alerted.")
	require.Contains(t, got, "Not included: attachments; history older than 30 days.")
	golden(t, "explain/escalation.golden", got)
}

func TestSchemaUpToDate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ format, file string }{
		{ProviderFormat, "provider.v1.json"},
		{ContractFormat, "contract.v1.json"},
		{PackFormat, "pack.v1.json"},
	} {
		got, err := JSONSchema(tc.format)
		require.NoError(t, err)
		path := filepath.Join("..", "..", "schema", tc.file)
		if *update {
			require.NoError(t, os.WriteFile(path, got, 0o644))
			continue
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "run: go test ./internal/spec -run Schema -update")
		require.Equal(t, string(want), string(got), "schema/%s is stale; run: go test ./internal/spec -run Schema -update", tc.file)
	}
}

func TestSchemaAcceptsShippedPack(t *testing.T) {
	t.Parallel()
	c := jsonschema.NewCompiler()
	compile := func(format string) *jsonschema.Schema {
		raw, err := JSONSchema(format)
		require.NoError(t, err)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		require.NoError(t, err)
		url := "mem://" + strings.ReplaceAll(format, "/", ".") + ".json"
		require.NoError(t, c.AddResource(url, doc))
		s, err := c.Compile(url)
		require.NoError(t, err)
		return s
	}
	schemas := map[string]*jsonschema.Schema{"providers": compile(ProviderFormat), "contracts": compile(ContractFormat)}
	validate := func(s *jsonschema.Schema, path string) error {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		var v any
		require.NoError(t, yaml.Unmarshal(data, &v))
		// Round-trip through JSON so the validator sees JSON types.
		j, err := json.Marshal(v)
		require.NoError(t, err)
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		require.NoError(t, err)
		return s.Validate(inst)
	}
	packSchema := compile(PackFormat)
	for _, pack := range []string{packDir, filepath.Join("..", "..", "packs", "billing-to-crm")} {
		for dir, s := range schemas {
			files, _ := yamlFiles(filepath.Join(pack, dir))
			require.NotEmpty(t, files)
			for _, f := range files {
				require.NoError(t, validate(s, f), f)
			}
		}
		require.NoError(t, validate(packSchema, filepath.Join(pack, "pack.yaml")))
	}
	// The schema is not a rubber stamp: the bad contract's unknown key fails it.
	require.Error(t, validate(schemas["contracts"], "testdata/lint/escalation_bad.yaml"))
}

// A contract-level duplicates declaration covers every create and upsert
// that does not declare its own; an action's own "prevented" overrides it.
func TestContractLevelDuplicates(t *testing.T) {
	t.Parallel()
	b := loadTestProviders(t)
	base, err := os.ReadFile("testdata/explain/duplicates_tolerated.yaml")
	require.NoError(t, err)
	// Move the action's declaration up to the contract.
	src := strings.Replace(string(base), "    duplicates:\n      policy: tolerated\n      reason: a second note on the same ticket is noise, not harm\n", "", 1)
	src += "duplicates: {policy: tolerated, reason: notes are informational}\n"
	c, diags := ParseContract("c.yaml", []byte(src))
	diags = append(diags, Resolve(c, b.Providers)...)
	require.Empty(t, diags, diags.Error())
	require.Contains(t, Explain(c, b), "(accepted because: notes are informational)")

	src = strings.Replace(src, "    op: create\n", "    op: create\n    duplicates: {policy: prevented}\n", 1)
	c, diags = ParseContract("c.yaml", []byte(src))
	diags = append(diags, Resolve(c, b.Providers)...)
	require.Len(t, diags, 1, diags.Error())
	require.Contains(t, diags.Error(), "c.yaml:17:9: create on notes.note cannot promise one note per source record")
}
