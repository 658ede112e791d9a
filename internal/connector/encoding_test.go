package connector

import (
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

// stripeForm parses a form body the way Stripe's API (Rack) does: a key
// a[b][c] nests, and an object whose keys are all indexes 0…n-1 is a list.
// It is written apart from formEncode, so the two agreeing means something.
func stripeForm(t *testing.T, body string) map[string]any {
	t.Helper()
	vals, err := url.ParseQuery(body)
	require.NoError(t, err)
	root := map[string]any{}
	seg := regexp.MustCompile(`\[([^\[\]]*)\]`)
	for key, vs := range vals {
		require.Len(t, vs, 1, "key %s sent twice", key)
		head := key
		if i := strings.IndexByte(key, '['); i >= 0 {
			head = key[:i]
		}
		path := []string{head}
		for _, m := range seg.FindAllStringSubmatch(key[len(head):], -1) {
			path = append(path, m[1])
		}
		cur := root
		for _, p := range path[:len(path)-1] {
			next, ok := cur[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[p] = next
			}
			cur = next
		}
		cur[path[len(path)-1]] = vs[0]
	}
	return listify(root).(map[string]any)
}

func listify(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	idx := make([]int, 0, len(m))
	for k, e := range m {
		m[k] = listify(e)
		if i, err := strconv.Atoi(k); err == nil && i >= 0 {
			idx = append(idx, i)
		}
	}
	if len(m) == 0 || len(idx) != len(m) {
		return m
	}
	sort.Ints(idx)
	out := make([]any, len(idx))
	for n, i := range idx {
		if i != n {
			return m
		}
		out[n] = m[strconv.Itoa(i)]
	}
	return out
}

func TestFormEncodedCreate(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(200, `{"incident":{"id":"cus_1"}}`), func(p *spec.Provider, _ *Config) { p.Encoding = spec.EncodingForm })
	// The mapped document, as a mapping hands it over: typed values,
	// nested objects, a list of objects, a null that unsets a field.
	doc := map[string]any{
		"email":    "ada@example.com",
		"balance":  json.Number("-1500"),
		"quantity": 3,
		"ratio":    0.25,
		"tax":      false,
		"phone":    nil,
		"metadata": map[string]any{"accord_id": "t1/rec 7", "plan": "pro&co"},
		"items":    []any{map[string]any{"price": "price_1", "quantity": 2}, map[string]any{"price": "price_2"}},
		"expand":   []string{"subscriptions", "tax"},
		"since":    time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		"empty":    map[string]any{},
	}
	res, err := b.conn.Create(t.Context(), Call{Object: "incident", Doc: doc, IdempotencyKey: "k1", Auth: apiKey()})
	require.NoError(t, err)
	sent := b.last(t)
	require.Equal(t, "application/x-www-form-urlencoded", sent.Header.Get("Content-Type"))

	raw := sent.RawBody
	got := stripeForm(t, raw)
	require.Equal(t, map[string]any{"incident": map[string]any{
		"email":    "ada@example.com",
		"balance":  "-1500",
		"quantity": "3",
		"ratio":    "0.25",
		"tax":      "false",
		"phone":    "",
		"metadata": map[string]any{"accord_id": "t1/rec 7", "plan": "pro&co"},
		"items":    []any{map[string]any{"price": "price_1", "quantity": "2"}, map[string]any{"price": "price_2"}},
		"expand":   []any{"subscriptions", "tax"},
		"since":    "2025-03-01T12:00:00Z",
	}}, got, raw)
	// Indexes, not "items[][price]": a list of objects keeps each
	// element's fields together.
	require.Contains(t, raw, "incident%5Bitems%5D%5B1%5D%5Bprice%5D=price_2")
	require.Equal(t, "k1", sent.Header.Get("Idempotency-Key"))
	require.Equal(t, "cus_1", res.ID)
}

func TestEndpointEncodingOverridesProvider(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(200, `{"incident":{"id":"i1"}}`), func(p *spec.Provider, _ *Config) {
		p.Encoding = spec.EncodingForm
		p.Objects["incident"].Endpoints.Update.Encoding = spec.EncodingJSON
	})
	_, err := b.conn.Update(t.Context(), Call{Object: "incident", ID: "i1", Doc: map[string]any{"title": "x"}, Auth: apiKey()})
	require.NoError(t, err)
	require.Equal(t, "application/json", b.last(t).Header.Get("Content-Type"))
	require.JSONEq(t, `{"incident":{"title":"x"}}`, b.last(t).RawBody)

	_, err = b.conn.Create(t.Context(), Call{Object: "incident", Doc: map[string]any{"title": "a b"}, Auth: apiKey()})
	require.NoError(t, err)
	require.Equal(t, "application/x-www-form-urlencoded", b.last(t).Header.Get("Content-Type"))
	require.Equal(t, "incident%5Btitle%5D=a+b", b.last(t).RawBody)
}
