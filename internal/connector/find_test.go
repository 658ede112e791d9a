package connector

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

func TestFindSearchesWithABodyAndReturnsEveryCandidate(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(200, `{"results":[{"id":"co_1","properties":{"billing_customer_id":"cus_1"}},{"id":"co_2","properties":{"billing_customer_id":"cus_1"}}]}`),
		func(p *spec.Provider, _ *Config) {
			p.Objects["incident"].Endpoints.Find = &spec.Endpoint{
				Method: "POST", Path: "/v1/incidents/search", Items: "results", Item: "properties",
				Query:   map[string]string{"limit": "10"},
				Request: map[string]any{"filters": []any{map[string]any{"propertyName": "billing_customer_id", "value": "{billing_customer_id}"}}},
			}
		})
	cands, err := b.conn.Find(context.Background(), Call{Object: "incident", Doc: map[string]any{"billing_customer_id": "cus_1", "title": "x"}})
	require.NoError(t, err)
	require.Equal(t, []Candidate{
		{ID: "co_1", Object: map[string]any{"billing_customer_id": "cus_1"}},
		{ID: "co_2", Object: map[string]any{"billing_customer_id": "cus_1"}},
	}, cands)
	req := b.last(t)
	require.Equal(t, "POST", req.Method)
	require.Equal(t, "/api/v1/incidents/search", req.Path)
	require.Equal(t, "limit=10", req.RawQuery)
	require.Equal(t, map[string]any{"filters": []any{map[string]any{"propertyName": "billing_customer_id", "value": "cus_1"}}}, req.Body,
		"the search is sent with its body, never empty")

	_, err = b.conn.Find(context.Background(), Call{Object: "incident", Doc: map[string]any{}})
	require.ErrorIs(t, err, ErrMissingParam, "no value to search by: nothing is sent")
	require.Len(t, b.requests(), 1)
}
