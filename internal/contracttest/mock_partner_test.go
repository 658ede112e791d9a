package contracttest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/contracttest"
	"github.com/accordhq/accord/internal/spec"
)

type mockBundle struct {
	mock *contracttest.MockPartner
	url  string
}

func setupMock(t *testing.T, manifest string) *mockBundle {
	t.Helper()
	p, diags := spec.LoadProvider(manifest)
	require.Empty(t, diags)
	m := contracttest.NewMockPartner(p, func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }, nil)
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return &mockBundle{mock: m, url: srv.URL}
}

func (b *mockBundle) call(t *testing.T, method, path string, body any, header ...string) (int, http.Header, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, b.url+path, rd)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var doc map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	return resp.StatusCode, resp.Header, doc
}

// The mock answers as the manifest says the partner does: the created
// object under its item path with a generated id at id_path, found by its
// external id afterwards, updated field by field, gone when it never was.
func TestMockPartnerFollowsTheManifest(t *testing.T) {
	t.Parallel()
	b := setupMock(t, "../../packs/support-escalation/providers/incidents.yaml")

	status, _, doc := b.call(t, "POST", "/v1/incidents", map[string]any{"incident": map[string]any{"title": "Checkout down", "severity": 1, "external_id": "T-42"}}, "Idempotency-Key", "k1")
	require.Equal(t, http.StatusCreated, status)
	id := doc["incident"].(map[string]any)["id"]
	require.Equal(t, "incident_1001", id)
	require.Equal(t, "Checkout down", doc["incident"].(map[string]any)["title"])

	status, _, again := b.call(t, "POST", "/v1/incidents", map[string]any{"incident": map[string]any{"title": "Checkout down"}}, "Idempotency-Key", "k1")
	require.Equal(t, http.StatusOK, status, "the same idempotency key returns the first object")
	require.Equal(t, doc, again)

	_, _, found := b.call(t, "GET", "/v1/incidents?external_id=T-42", nil)
	require.Len(t, found["incidents"], 1)
	_, _, none := b.call(t, "GET", "/v1/incidents?external_id=T-43", nil)
	require.Empty(t, none["incidents"])

	status, _, doc = b.call(t, "PATCH", "/v1/incidents/incident_1001", map[string]any{"incident": map[string]any{"status": "acknowledged"}})
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "Checkout down", doc["incident"].(map[string]any)["title"])
	require.Equal(t, "acknowledged", doc["incident"].(map[string]any)["status"])

	status, _, doc = b.call(t, "GET", "/v1/incidents/nope", nil)
	require.Equal(t, http.StatusNotFound, status)
	require.Contains(t, doc["error"].(map[string]any)["message"], "no incident")
	require.Len(t, b.mock.Records("incident"), 1)
}

// A find searches the stored records by the values its request template
// carries, so an upsert's match_on finds what the test seeded.
func TestMockPartnerFindsSeededRecords(t *testing.T) {
	t.Parallel()
	b := setupMock(t, "../../packs/billing-to-crm/providers/crm.yaml")
	require.NoError(t, b.mock.Seed("company", []map[string]any{
		{"id": "c1", "billing_customer_id": "cus_1", "name": "Acme"},
		{"id": "c2", "billing_customer_id": "cus_2", "name": "Globex"},
	}))
	search := map[string]any{"filterGroups": []any{map[string]any{"filters": []any{map[string]any{"propertyName": "billing_customer_id", "operator": "EQ", "value": "cus_2"}}}}}
	status, _, doc := b.call(t, "POST", "/crm/v3/objects/companies/search", search)
	require.Equal(t, http.StatusOK, status)
	results := doc["results"].([]any)
	require.Len(t, results, 1)
	require.Equal(t, "c2", results[0].(map[string]any)["id"])
	require.Equal(t, "Globex", results[0].(map[string]any)["properties"].(map[string]any)["name"])
	require.Error(t, b.mock.Seed("invoice", nil), "an object the manifest lacks")
}

// A fault answers with the status the manifest's rules give its class, the
// message where the manifest reads it, Retry-After for throttling, and
// stops after its count.
func TestMockPartnerFaults(t *testing.T) {
	t.Parallel()
	b := setupMock(t, "../../packs/support-escalation/providers/incidents.yaml")
	b.mock.Fail(contracttest.Fault{Object: "incident", Op: contracttest.OpCreate, Class: spec.ClassRateLimited, RetryAfter: 30 * time.Second, Times: 1})
	b.mock.Fail(contracttest.Fault{Object: "incident", Op: contracttest.OpGet, Class: spec.ClassTransient})
	create := map[string]any{"incident": map[string]any{"title": "x", "severity": 1}}

	status, h, doc := b.call(t, "POST", "/v1/incidents", create)
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Equal(t, "30", h.Get("Retry-After"))
	require.Contains(t, doc["error"].(map[string]any)["message"], "fails as the test asked")
	status, _, _ = b.call(t, "POST", "/v1/incidents", create)
	require.Equal(t, http.StatusCreated, status, "times: 1 fails once")

	for range 2 {
		status, _, _ = b.call(t, "GET", "/v1/incidents/incident_1001", nil)
		require.Equal(t, http.StatusServiceUnavailable, status, "5xx in the rules; without times every call fails")
	}
}
