package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const escalationContract = "../../packs/support-escalation/contracts/escalation.yaml"

func ticketEvent(t *testing.T, status string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ticket.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"id":"evt_1","type":"ticket.updated","data":{"id":"T-42","title":"Checkout down",`+
		`"description":"Customers cannot pay","priority":"high","status":"`+status+`","url":"https://helpdesk.example/tickets/T-42","version":3}}`), 0o600))
	return path
}

// accord dryrun shows, with no database and no partner, what one event
// does: the trigger match, each action's fields with the row behind each,
// and the requests that would go out, credentials redacted.
func TestDryRunShowsMatchFieldsAndRequests(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "dryrun", "--contract", escalationContract, "--event", ticketEvent(t, "escalated"))
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{
		"trigger ticket_escalated matches this ticket.updated event",
		"action create_incident: create incidents.incident",
		`title = "Checkout down"   ← ticket.title (`,
		"escalation.yaml:39:9)",
		"severity = 1   ← ticket.priority",
		"/v1/incidents?external_id={source id}",
		"POST http://127.0.0.1:9102/v1/incidents",
		"Authorization: Bearer <redacted>",
		`"title": "Checkout down"`,
		"action notify_chat: create chat.message",
		"POST http://127.0.0.1:9103/v1/channels/escalations/messages",
	} {
		require.Contains(t, out, want)
	}
	chat := out[strings.Index(out, "action notify_chat"):]
	require.NotContains(t, chat[strings.Index(chat, "{"):], `"channel"`, "a field that fills the path is not sent in the body")
}

func TestDryRunSaysWhenTheConditionIsFalse(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "dryrun", "--contract", escalationContract, "--event", ticketEvent(t, "open"))
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, `condition "ticket.status == \"escalated\"" is false for this event: nothing is written (outcome filtered)`)
	require.NotContains(t, out, "POST")
}

func TestDryRunNeedsItsInputs(t *testing.T) {
	t.Parallel()
	code, _, errOut := run(t, "dryrun", "--contract", escalationContract)
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, "name a contract and an event")
}

const crmBillingContract = "../../packs/crm-billing/contracts/crm-billing.yaml"

func subscriptionEvent(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "subscription.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"id":"evt_1","type":"customer.subscription.updated","data":{"object":{"id":"sub_1",`+
		`"customer":"cus_1","status":"active","updated":5,"items":{"data":[{"price":{"unit_amount":5000,"recurring":{"interval":"month"}},"quantity":2}]}}}}`), 0o600))
	return path
}

// An action that reads the partner before it writes (crm-billing's MRR,
// read with the customer) is run offline: the read is answered by the mock
// partner from the author's records, and the output says so.
func TestDryRunAnswersReadsFromTheRecordsFile(t *testing.T) {
	t.Parallel()
	records := filepath.Join(t.TempDir(), "records.yaml")
	require.NoError(t, os.WriteFile(records, []byte(`
billing-app.customer:
  - id: cus_1
    name: Acme
    subscriptions:
      data:
        - {status: active, items: {data: [{quantity: 2, price: {unit_amount: 5000, recurring: {interval: month}}}]}}
        - {status: canceled, items: {data: [{quantity: 1, price: {unit_amount: 9900, recurring: {interval: month}}}]}}
        - {status: active, items: {data: [{quantity: 1, price: {unit_amount: 120000, recurring: {interval: year}}}]}}
`), 0o600))
	code, out, errOut := run(t, "dryrun", "--contract", crmBillingContract, "--event", subscriptionEvent(t), "--records", records)
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{
		"action account_mrr: upsert crm-app.account",
		"reads before writing (offline: answered by a mock billing-app built from its manifest, not by billing-app)",
		"GET http://127.0.0.1:9104/v1/customers/cus_1?expand[]=subscriptions   → customer cus_1, from " + records,
		`name = "Acme"   ← customer.name`,
		"mrr = 200   ← customer.subscriptions.data.filter(",
		`"mrr": 200`,
	} {
		require.Contains(t, out, want)
	}
}

func TestDryRunAnswersReadsWithAGeneratedExample(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "dryrun", "--contract", crmBillingContract, "--event", subscriptionEvent(t))
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "→ customer cus_1, an example generated from the manifest's fields (give --records FILE for real values)")
	require.Contains(t, out, `name = "example name"   ← customer.name`)
	require.Contains(t, out, "POST http://127.0.0.1:9105/crm/v3/objects/companies\n")

	bad := filepath.Join(t.TempDir(), "records.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("customer: [{id: cus_1}]\n"), 0o600))
	code, _, errOut = run(t, "dryrun", "--contract", crmBillingContract, "--event", subscriptionEvent(t), "--records", bad)
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, `records are keyed by provider.object (e.g. billing-app.customer), not "customer"`)
}
