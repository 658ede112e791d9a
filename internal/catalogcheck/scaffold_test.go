package catalogcheck

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

// A scaffold lints clean and shows no drift from the document it came
// from, and finds the endpoints, auth and pagination an author would.
func TestScaffold(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file           string
		shared         bool
		object, name   string
		wantContains   []string
		wantObjectName string
	}{
		{file: "zendesk-tickets.yaml", object: "TicketObject", name: "zendesk", wantObjectName: "ticketobject", wantContains: []string{
			"kind: basic",
			`create: {method: POST, path: "/api/v2/tickets", item: ticket, body: ticket, id_path: ticket.id}`,
			`priority: {type: string, enum: ["urgent", "high", "normal", "low"]}`,
			`comment: {type: object, required: true}`,
			`created_at: {type: timestamp, read_only: true}`,
		}},
		{file: "hubspot-crm.yaml", object: "SimplePublicObject", name: "hubspot", wantObjectName: "simplepublicobject", wantContains: []string{
			"kind: oauth2_code",
			"client_id_env: HUBSPOT_CLIENT_ID",
			"  style: cursor\n  param: \"after\"\n  limit_param: \"limit\"\n  limit: 100\n  next: paging.next.after\n",
			`update: {method: PATCH, path: "/crm/v3/objects/companies/{id}"}`,
		}},
		{file: "github-issues.yaml", object: "issue", name: "github", wantObjectName: "issue", wantContains: []string{
			`owner: {type: string, required: true, description: "path parameter"}`,
			`title: {type: string, required: true}`,
		}},
		{file: "stripe-openapi-spec3.yaml", shared: true, object: "customer", name: "stripe", wantObjectName: "customer", wantContains: []string{
			"kind: bearer",
			`list: {method: GET, path: "/v1/customers", items: data}`,
			`get: {method: GET, path: "/v1/customers/{id}"}`,
		}},
		{file: "intercom-openapi.yaml", shared: true, object: "contacts", name: "intercom", wantObjectName: "contact", wantContains: []string{
			`update: {method: PUT, path: "/contacts/{id}"}`,
			`email: {type: string, description: "The contact's email"}`,
		}},
		{file: "pagerduty-rest-openapiv3.json", shared: true, object: "incident", name: "pagerduty", wantObjectName: "incident", wantContains: []string{
			"kind: api_key\n  header: \"Authorization\"",
			`list: {method: GET, path: "/incidents", items: incidents}`,
			"style: offset",
		}},
	} {
		t.Run(tc.name+"/"+tc.object, func(t *testing.T) {
			t.Parallel()
			path := documentPath(t, tc.file, tc.shared)
			doc, err := LoadDocument(path)
			require.NoError(t, err)
			out, err := Scaffold(doc, ScaffoldOptions{Object: tc.object, Provider: tc.name})
			require.NoError(t, err)
			text := string(out)
			p, diags := spec.ParseProvider(filepath.Join(t.TempDir(), tc.name+".yaml"), out)
			require.Empty(t, diags, "%s\n%s", diags.Error(), text)
			require.Contains(t, p.Objects, tc.wantObjectName)
			for _, want := range tc.wantContains {
				require.Contains(t, text, want)
			}
			drift := Check(p, doc)
			require.Empty(t, drift, drift.Error())
		})
	}
}

func TestScaffoldUnknownObject(t *testing.T) {
	t.Parallel()
	doc, err := LoadDocument(filepath.Join("testdata", "zendesk-tickets.yaml"))
	require.NoError(t, err)
	_, err = Scaffold(doc, ScaffoldOptions{Object: "ticket"})
	require.EqualError(t, err, "the document has no schema named ticket (schemas with that in their name: TicketComment, TicketCreateInput, TicketObject, TicketResponse, TicketUpdateInput, TicketsResponse)")
}
