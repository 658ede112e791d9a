package spec

import (
	"net/url"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFindRequestFillsTemplates(t *testing.T) {
	t.Parallel()
	ep := &Endpoint{
		Method: "POST", Path: "/search/{region}?q={name}",
		Query:   map[string]string{"exact": "{billing_customer_id}"},
		Request: map[string]any{"filters": []any{map[string]any{"value": "{billing_customer_id}", "label": "id {billing_customer_id}"}}, "limit": int64(3), "n": "{count}"},
	}
	path, query, body, err := ep.FindRequest(map[string]any{"region": "eu/1", "name": "A&B", "billing_customer_id": "cus_1", "count": int64(2)})
	require.NoError(t, err)
	require.Equal(t, "/search/eu%2F1?q=A%26B", path)
	require.Equal(t, url.Values{"exact": {"cus_1"}}, query)
	require.Equal(t, map[string]any{"filters": []any{map[string]any{"value": "cus_1", "label": "id cus_1"}}, "limit": int64(3), "n": int64(2)}, body,
		"a whole-string placeholder keeps the value's type")
	require.Equal(t, []string{"billing_customer_id", "count", "name", "region"}, ep.Placeholders())

	_, _, _, err = ep.FindRequest(map[string]any{"region": "eu", "name": ""})
	require.EqualError(t, err, "find /search/{region}?q={name}: no value for {billing_customer_id}, {count}, {name}")
}

func TestCELSumAndListItemTypes(t *testing.T) {
	t.Parallel()
	obj := &Object{Name: "s", Fields: map[string]*Field{
		"items": {Type: TypeList, Items: &Field{Type: TypeObject, Fields: map[string]*Field{"q": {Type: TypeInt}, "p": {Type: TypeFloat}}}},
		"raw":   {Type: TypeObject},
	}}
	doc := map[string]any{
		"items": []any{map[string]any{"q": 2.0, "p": 1.5}, map[string]any{"q": 3.0, "p": 2.0}},
		"raw":   map[string]any{"l": []any{1.0, 2.5}},
	}
	env, err := CELEnv(obj)
	require.NoError(t, err)
	for _, tc := range []struct {
		expr, typ string
		want      any
	}{
		{"s.items.map(i, i.q * 2).sum()", "int", int64(10)},
		{"s.items.map(i, i.p * double(i.q)).sum()", "double", 9.0},
		{"[1, 2].sum()", "int", int64(3)},
		{"s.raw.l.sum()", "dyn", 3.5},
		{"math.greatest(s.items.map(i, i.q))", "dyn", int64(3)},
	} {
		ast, iss := env.Compile(tc.expr)
		require.NoError(t, iss.Err(), tc.expr)
		require.Equal(t, tc.typ, ast.OutputType().String(), tc.expr)
		prg, err := env.Program(ast)
		require.NoError(t, err)
		out, _, err := prg.Eval(Activation(obj, doc))
		require.NoError(t, err, tc.expr)
		require.Equal(t, tc.want, out.Value(), tc.expr)
	}
}

func TestBillingPackLintsCleanAndExplains(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "packs", "billing-to-crm")
	require.Empty(t, Lint(dir))
	b, diags := LoadDir(dir)
	require.Empty(t, diags, diags.Error())
	got := Explain(b.Contracts["billing-to-crm"], b)
	require.Contains(t, got, "Before creating, it looks for a company with the same billing_customer_id: first among the records Accord already wrote")
	require.Contains(t, got, "it reads the customer (subscription customer) from the source's API")
	golden(t, "explain/billing_to_crm.golden", got)
}

func TestRowTypeStringConvertsAnExpression(t *testing.T) {
	t.Parallel()
	b, diags := LoadDir(filepath.Join("..", "..", "packs", "billing-to-crm"))
	require.Empty(t, diags)
	contract := func(row string) Diagnostics {
		c, diags := ParseContract("c.yaml", []byte(`accord: contract/v1
name: c
version: 1.0.0
providers: [billing, crm]
direction: one_way
triggers: {t: {webhook: {provider: billing, events: [customer.updated]}}}
actions:
  - {name: a, trigger: t, provider: crm, object: company, op: update, mapping: [`+row+`]}
`))
		require.Empty(t, diags)
		return Resolve(c, b.Providers)
	}
	require.Empty(t, contract(`{to: name, expr: "customer.updated * 2", type: string}`))
	got := contract(`{to: name, expr: "customer.updated * 2"}`)
	require.Len(t, got, 1)
	require.Contains(t, got[0].Message, "name is string but the expression gives int; declare the row `type: string` to convert it")
}
