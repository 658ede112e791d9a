package sim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/webhook/signature"
)

func searchBody(id string) map[string]any {
	return map[string]any{"filterGroups": []any{map[string]any{"filters": []any{
		map[string]any{"propertyName": "billing_customer_id", "operator": "EQ", "value": id}}}}}
}

func TestCRMSearchLagsBehindWrites(t *testing.T) {
	t.Parallel()
	clk := newClock()
	crm := sim.NewCRM(&sim.Config{Token: token, Now: clk.Now, SearchLag: 2 * time.Second, RateLimit: -1})
	url := serve(t, crm.Handler()) + "/crm/v3/objects/companies"

	created := call(t, http.MethodPost, url, token, map[string]any{"properties": map[string]any{"name": "Acme", "billing_customer_id": "cus_1"}})
	require.Equal(t, http.StatusCreated, created.Status, string(created.Body))
	id := created.JSON(t)["id"].(string)

	found := call(t, http.MethodPost, url+"/search", token, searchBody("cus_1")).JSON(t)
	require.EqualValues(t, 0, found["total"], "not indexed yet")

	clk.Advance(2 * time.Second)
	found = call(t, http.MethodPost, url+"/search", token, searchBody("cus_1")).JSON(t)
	require.EqualValues(t, 1, found["total"])
	require.Equal(t, id, found["results"].([]any)[0].(map[string]any)["id"])

	patched := call(t, http.MethodPatch, url+"/"+id, token, map[string]any{"properties": map[string]any{"billing_customer_id": "cus_2", "mrr": 12.5}})
	require.Equal(t, http.StatusOK, patched.Status)
	require.EqualValues(t, 1, call(t, http.MethodPost, url+"/search", token, searchBody("cus_1")).JSON(t)["total"], "the index still shows the old value")
	clk.Advance(2 * time.Second)
	require.EqualValues(t, 0, call(t, http.MethodPost, url+"/search", token, searchBody("cus_1")).JSON(t)["total"])
	require.Equal(t, map[string]string{"name": "Acme", "billing_customer_id": "cus_2", "mrr": "12.5"}, crm.Companies()[0].Properties)

	empty := call(t, http.MethodPost, url+"/search", token, nil)
	require.Equal(t, http.StatusBadRequest, empty.Status)
	require.Contains(t, empty.JSON(t)["message"], "Invalid input JSON", "HubSpot's answer to a search without a body")
}

func TestBillingSendsStripeSignedEventsInOrder(t *testing.T) {
	t.Parallel()
	const secret = "whsec_test"
	scheme, err := signature.New("stripe", signature.Options{})
	require.NoError(t, err)
	var mu sync.Mutex
	var got []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := scheme.Verify(&signature.Request{Header: r.Header, Body: body}, [][]byte{[]byte(secret)}, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var ev map[string]any
		_ = json.Unmarshal(body, &ev)
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)

	b := sim.NewBilling(&sim.Config{Token: token})
	t.Cleanup(b.Stop)
	b.Subscribe(hook.URL, secret)
	cus := b.CreateCustomer("Acme", "billing@acme.test")
	_, err = b.RenameCustomer(cus.ID, "Acme Inc")
	require.NoError(t, err)
	sub, err := b.CreateSubscription(cus.ID, sim.NewBillingItem(1000, 3, "month"), sim.NewBillingItem(12000, 1, "year"))
	require.NoError(t, err)
	require.Equal(t, 40.0, b.MRR(cus.ID))

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, b.WaitSent(ctx, 3))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 3, "every delivery verified")
	require.Equal(t, []any{"customer.created", "customer.updated", "customer.subscription.created"},
		[]any{got[0]["type"], got[1]["type"], got[2]["type"]})
	obj := got[2]["data"].(map[string]any)["object"].(map[string]any)
	require.Equal(t, sub.ID, obj["id"])
	require.Equal(t, cus.ID, obj["customer"])
	require.Len(t, obj["items"].(map[string]any)["data"], 2)

	read := call(t, http.MethodGet, serve(t, b.Handler())+"/v1/customers/"+cus.ID, token, nil)
	require.Equal(t, "Acme Inc", read.JSON(t)["name"])
}
