package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/accordhq/accord/internal/contracttest"
	"github.com/accordhq/accord/internal/spec"
)

// offlineReads answers the reads an action makes before it writes (its
// enrich list) with no partner: each provider read is served by the mock
// partner `accord test` builds from the manifest, seeded with the author's
// records file; a record the file does not hold is generated from the
// manifest's fields, and the output says which.
type offlineReads struct {
	file    string
	records map[string][]map[string]any // by provider.object
	mocks   map[string]*contracttest.MockPartner
}

// loadRecords reads a records file: partner records by "provider.object",
// as a test case's partner.records (YAML or JSON).
func loadRecords(path string) (*offlineReads, error) {
	r := &offlineReads{file: path, mocks: map[string]*contracttest.MockPartner{}}
	if path == "" {
		return r, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the records: %w", err)
	}
	if err := yaml.Unmarshal(raw, &r.records); err != nil {
		return nil, fmt.Errorf("%s: list records by provider.object, e.g. {\"billing-app.customer\": [{\"id\": \"cus_1\", \"name\": \"Acme\"}]}: %w", path, err)
	}
	for key := range r.records {
		if p, o, ok := strings.Cut(key, "."); !ok || p == "" || o == "" {
			return nil, fmt.Errorf("%s: records are keyed by provider.object (e.g. billing-app.customer), not %q", path, key)
		}
	}
	return r, nil
}

func (r *offlineReads) mock(p *spec.Provider) (*contracttest.MockPartner, error) {
	if m := r.mocks[p.Name]; m != nil {
		return m, nil
	}
	m := contracttest.NewMockPartner(p, nil, nil)
	for _, key := range slices.Sorted(maps.Keys(r.records)) {
		provider, object, _ := strings.Cut(key, ".")
		if provider != p.Name {
			continue
		}
		if err := m.Seed(object, r.records[key]); err != nil {
			return nil, fmt.Errorf("%s: %w", r.file, err)
		}
	}
	r.mocks[p.Name] = m
	return m, nil
}

// enrich reads the action's related objects from the trigger's provider
// p and says on w where each answer came from. A read the mock cannot
// answer leaves the object out (its fields read as missing, as when the
// engine finds no id to fetch).
func (r *offlineReads) enrich(w io.Writer, p *spec.Provider, a *spec.Action, doc map[string]any) (map[string]map[string]any, []*spec.Object, error) {
	if len(a.Enrich) == 0 {
		return nil, nil, nil
	}
	m, err := r.mock(p)
	if err != nil {
		return nil, nil, err
	}
	base := strings.TrimRight(p.ResolvedBaseURL(os.LookupEnv), "/")
	fmt.Fprintf(w, "  reads before writing (offline: answered by a mock %s built from its manifest, not by %s):\n", p.Name, p.Name)
	out := map[string]map[string]any{}
	var objs []*spec.Object
	for _, en := range a.Enrich {
		o := p.Objects[en.Object]
		if o == nil || o.Endpoints.Get == nil {
			return nil, nil, fmt.Errorf("action %s: enrich %s: provider %s has no get endpoint for it", a.Name, en.Object, p.Name)
		}
		objs = append(objs, o)
		_, below, _ := strings.Cut(en.ID, ".")
		v, ok := spec.Get(doc, below)
		if !ok || v == nil || fmt.Sprint(v) == "" {
			fmt.Fprintf(w, "    %s: the event has no %s, so nothing is read; its fields read as missing\n", o.Name, en.ID)
			continue
		}
		id := fmt.Sprint(v)
		from := "from " + r.file
		if !r.has(p.Name, o, id) {
			rec := example(o.Fields)
			rec[o.IDField()] = id
			if err := m.Seed(o.Name, []map[string]any{rec}); err != nil {
				return nil, nil, err
			}
			from = "an example generated from the manifest's fields (no record " + id + " in --records)"
			if r.file == "" {
				from = "an example generated from the manifest's fields (give --records FILE for real values)"
			}
		}
		ep := o.Endpoints.Get
		path := strings.ReplaceAll(ep.Path, "{id}", url.PathEscape(id))
		fmt.Fprintf(w, "    %s %s%s   → %s %s, %s\n", ep.Method, base, path, o.Name, id, from)
		got, err := r.get(m, ep, path)
		if err != nil {
			fmt.Fprintf(w, "      the mock could not answer (%v): its fields read as missing\n", err)
			continue
		}
		out[o.Name] = got
	}
	return out, objs, nil
}

func (r *offlineReads) has(provider string, o *spec.Object, id string) bool {
	return slices.ContainsFunc(r.records[provider+"."+o.Name], func(rec map[string]any) bool {
		return fmt.Sprint(rec[o.IDField()]) == id
	})
}

// get sends the read to the mock in memory and unwraps the object.
func (r *offlineReads) get(m *contracttest.MockPartner, ep *spec.Endpoint, path string) (map[string]any, error) {
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest(ep.Method, path, nil))
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", rec.Code)
	}
	var answer any
	if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
		return nil, err
	}
	if body, ok := answer.(map[string]any); ok && ep.Item != "" {
		answer, _ = spec.Get(body, ep.Item)
	}
	doc, ok := answer.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the answer holds no object at %q", ep.Item)
	}
	return doc, nil
}

// example is a record with every declared field: one element per list,
// the first value of an enum, a placeholder of the field's type
// otherwise.
func example(fields map[string]*spec.Field) map[string]any {
	out := map[string]any{}
	for name, f := range fields {
		if f != nil {
			out[name] = exampleValue(name, f)
		}
	}
	return out
}

func exampleValue(name string, f *spec.Field) any {
	if len(f.Enum) > 0 {
		return f.Enum[0]
	}
	switch f.Type {
	case spec.TypeObject:
		return example(f.Fields)
	case spec.TypeList:
		if f.Items == nil {
			return []any{}
		}
		return []any{exampleValue(name, f.Items)}
	case spec.TypeInt, spec.TypeFloat:
		return 1
	case spec.TypeBool:
		return false
	case spec.TypeTimestamp:
		return "2026-01-02T03:04:05Z"
	default:
		return "example " + name
	}
}
