package ui_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/dbtest"
)

// fieldsForm is the fields step's form: the marker, the switched-on
// triggers and the overrides typed.
func fieldsForm(sample string, triggersOn []string, ov map[string]string) url.Values {
	f := url.Values{"overrides_form": {"1"}, "sample": {sample}, "event_type": {"ticket.updated"}, "trigger_on": triggersOn}
	for k, v := range ov {
		f.Set("ov:"+k, v)
	}
	return f
}

func TestSetupWizardOverrides(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setupWizard(t, st)
		w := b.wizard(t, adminToken, "acme")
		w.connectAll()
		sample := `{"id":"T-9","title":"Checkout down","priority":"high","status":"escalated","url":"https://hd.example/T-9","version":3}`
		on := []string{"ticket_escalated"}

		status, body, _ := w.do("goto:3", nil)
		require.Equal(t, http.StatusOK, status, body)
		require.Contains(t, body, `name="ov:create_incident.severity"`, "the rows the contract allows are offered")
		require.Contains(t, body, `name="ov:create_incident.title"`)
		require.Contains(t, body, `name="ov:notify_chat.channel"`)
		require.NotContains(t, body, `name="ov:create_incident.link"`, "a fixed row is not")
		require.Contains(t, body, `id="trigger-ticket_escalated" name="trigger_on" value="ticket_escalated" checked`)

		// Refused choices: each says why beside its field, what was typed
		// stays, and the wizard does not move on.
		status, body, _ = w.do("goto:4", fieldsForm(sample, on, map[string]string{
			"create_incident.severity": "7", "create_incident.title": "ticket.titel + 1"}))
		require.Equal(t, http.StatusUnprocessableEntity, status)
		require.Contains(t, body, "Some choices cannot be used")
		require.Contains(t, body, `id="ov-create_incident.severity-err" class="reason" role="alert">7 is not a value the target accepts (1, 2, 3)`)
		require.Contains(t, body, `ticket has no field titel; did you mean title?`)
		require.Contains(t, body, `value="ticket.titel + 1"`)
		require.Contains(t, body, `aria-current="step" class="current">Fields`)
		status, body, _ = w.do("goto:3", fieldsForm(sample, nil, nil))
		require.Equal(t, http.StatusUnprocessableEntity, status)
		require.Contains(t, body, "at least one trigger must stay on")

		// Accepted: the preview writes them.
		status, body, _ = w.do("goto:3", fieldsForm(sample, on, map[string]string{
			"create_incident.severity": "3", "create_incident.title": `"[VIP] " + ticket.title`, "notify_chat.channel": "vip"}))
		require.Equal(t, http.StatusOK, status, body)
		require.Contains(t, body, `<td><code>severity</code></td><td><code>always 3</code> <span class="badge healthy">your choice</span></td><td><code>3</code></td>`)
		require.Contains(t, body, `<code>"[VIP] Checkout down"</code>`)
		require.Contains(t, body, `<option value="3" selected>always 3</option>`)

		// Other steps keep them; the dry run sends them.
		status, _, _ = w.do("test", url.Values{"sample": {sample}})
		require.Equal(t, http.StatusOK, status)
		status, body, _ = w.do("goto:5", url.Values{"sample": {sample}, "event_type": {"ticket.updated"}})
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "<code>POST /v1/channels/vip/messages</code>")
		require.Contains(t, body, `"severity": 3`)

		status, _, loc := w.do("enable", nil)
		require.Equal(t, http.StatusSeeOther, status)
		id := strings.TrimSuffix(strings.TrimPrefix(loc, "/ui/t/acme/installations/"), "?installed=1")
		inst, err := st.GetInstallation(t.Context(), "acme", id)
		require.NoError(t, err)
		var o spec.Overrides
		require.NoError(t, json.Unmarshal(inst.Overrides, &o))
		require.Equal(t, map[string]spec.FieldOverride{"create_incident.severity": {Value: float64(3)},
			"create_incident.title": {Expr: `"[VIP] " + ticket.title`}, "notify_chat.channel": {Value: "vip"}}, o.Fields)
		require.Empty(t, o.DisabledTriggers)
	})
}
