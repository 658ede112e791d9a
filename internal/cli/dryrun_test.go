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
