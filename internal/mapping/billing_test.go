package mapping

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

// billingMapper compiles an action of the shipped billing-to-crm pack.
func billingMapper(t *testing.T, action string) (*Mapper, *spec.Action) {
	t.Helper()
	b, diags := spec.LoadDir("../../packs/billing-to-crm")
	require.Empty(t, diags, diags.Error())
	c := b.Contracts["billing-to-crm"]
	billing := b.Providers["billing"]
	for _, a := range c.Actions {
		if a.Name != action {
			continue
		}
		src := billing.Objects[map[string]string{"customer": "customer", "subscription": "subscription"}[a.Trigger]]
		var related []*spec.Object
		for _, en := range a.Enrich {
			related = append(related, billing.Objects[en.Object])
		}
		m, err := New(a, src, b.Providers["crm"].Objects["company"], &Config{Related: related})
		require.NoError(t, err)
		return m, a
	}
	t.Fatalf("no action %s", action)
	return nil, nil
}

func subscription(items ...any) map[string]any {
	return map[string]any{"id": "sub_1", "customer": "cus_1", "updated": float64(1700000000), "items": map[string]any{"data": items}}
}

func item(amount, qty float64, interval string) map[string]any {
	return map[string]any{"quantity": qty, "price": map[string]any{"unit_amount": amount, "recurring": map[string]any{"interval": interval}}}
}

func TestMRRSumsEveryItemWithEnrichedName(t *testing.T) {
	t.Parallel()
	m, _ := billingMapper(t, "company_mrr")
	res, err := m.MapWith(subscription(item(1000, 3, "month"), item(12000, 1, "year"), item(500, 2, "month")),
		map[string]map[string]any{"customer": {"id": "cus_1", "name": "Acme"}})
	require.NoError(t, err)
	// 30 + 10 + 10 per month: JSON numbers declared int are ints inside list
	// elements too, so unit_amount * quantity type-checks and runs alike.
	require.Equal(t, map[string]any{"billing_customer_id": "cus_1", "name": "Acme", "mrr": 50.0}, res.Doc)

	res, err = m.MapWith(subscription(), nil)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"billing_customer_id": "cus_1", "mrr": 0.0}, res.Doc, "no items: 0; no enrichment: no name")
}

func TestRunTimeExprErrorNamesOperatorTypesAndRow(t *testing.T) {
	t.Parallel()
	src := &spec.Object{Name: "s", Fields: map[string]*spec.Field{"data": {Type: spec.TypeObject}}}
	dst := &spec.Object{Name: "d", Fields: map[string]*spec.Field{"n": {Type: spec.TypeFloat}}}
	c, diags := spec.ParseContract("contracts/x.yaml", []byte(`accord: contract/v1
name: x
version: 1.0.0
providers: [p]
direction: one_way
triggers: {t: {webhook: {provider: p, events: [e]}}}
actions:
  - name: a
    trigger: t
    provider: p
    object: d
    op: create
    mapping:
      - {to: n, expr: "s.data.amount / 100"}
`))
	require.Empty(t, diags)
	m, err := New(c.Actions[0], src, dst, nil)
	require.NoError(t, err)
	_, err = m.Map(map[string]any{"data": map[string]any{"amount": 1250.0}})
	require.True(t, errors.Is(err, ErrExpr))
	require.ErrorContains(t, err, "contracts/x.yaml:14:23")
	require.ErrorContains(t, err, "double / int")
	require.ErrorContains(t, err, "write 100.0")
}

func TestTypeStringConvertsExprResult(t *testing.T) {
	t.Parallel()
	src := &spec.Object{Name: "s", Fields: map[string]*spec.Field{"n": {Type: spec.TypeInt}}}
	dst := &spec.Object{Name: "d", Fields: map[string]*spec.Field{"label": {Type: spec.TypeString}}}
	a := &spec.Action{Name: "a", Mapping: []*spec.Row{{To: "label", Expr: "s.n * 2", Type: spec.TypeString}}}
	m, err := New(a, src, dst, nil)
	require.NoError(t, err)
	res, err := m.Map(map[string]any{"n": 21.0})
	require.NoError(t, err)
	require.Equal(t, "42", res.Doc["label"])
}
