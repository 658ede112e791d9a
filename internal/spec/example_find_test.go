package spec_test

import (
	"encoding/json"
	"fmt"

	"github.com/accordhq/accord/internal/spec"
)

// A find endpoint searches by mapped fields: the HubSpot-style filter
// body takes the mapped billing_customer_id.
func ExampleEndpoint_FindRequest() {
	find := &spec.Endpoint{
		Method: "POST", Path: "/crm/v3/objects/companies/search", Items: "results",
		Request: map[string]any{"filterGroups": []any{map[string]any{"filters": []any{
			map[string]any{"propertyName": "billing_customer_id", "operator": "EQ", "value": "{billing_customer_id}"}}}}},
	}
	path, _, body, err := find.FindRequest(map[string]any{"billing_customer_id": "cus_42", "name": "Acme"})
	if err != nil {
		panic(err)
	}
	b, _ := json.Marshal(body)
	fmt.Println(find.Method, path)
	fmt.Println(string(b))
	// Output:
	// POST /crm/v3/objects/companies/search
	// {"filterGroups":[{"filters":[{"operator":"EQ","propertyName":"billing_customer_id","value":"cus_42"}]}]}
}
