package catalogcheck_test

import (
	"fmt"

	"github.com/accordhq/accord/internal/catalogcheck"
	"github.com/accordhq/accord/internal/spec"
)

// A manifest whose update endpoint uses a method the vendor does not take.
func ExampleCheck() {
	doc, err := catalogcheck.LoadDocument("testdata/zendesk-tickets.yaml")
	if err != nil {
		panic(err)
	}
	p, diags := spec.ParseProvider("providers/zendesk.yaml", []byte(`accord: provider/v1
name: zendesk
base_url: https://example.zendesk.com
auth: {kind: basic}
objects:
  ticket:
    fields:
      id: {type: int, read_only: true}
      subject: {type: string}
    endpoints:
      update: {method: PATCH, path: "/api/v2/tickets/{id}", body: ticket}
`))
	if len(diags) > 0 {
		panic(diags)
	}
	for _, d := range catalogcheck.Check(p, doc) {
		fmt.Println(d)
	}
	// Output:
	// providers/zendesk.yaml:11:24: ticket.update: the vendor's /api/v2/tickets/{ticket_id} takes GET, PUT, not PATCH
}
