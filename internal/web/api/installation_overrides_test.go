package api_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/web/api"
)

// setupPackClient is setupClient over the shipped support-escalation pack,
// whose contract lets an installation override a few rows.
func setupPackClient(t *testing.T) *clientBundle {
	t.Helper()
	b, diags := spec.LoadDir("../../../packs/support-escalation")
	require.NoError(t, diags.Err())
	return setupClientWith(t, func(d *api.Deps) {
		d.Providers, d.Contracts = b.Providers, b.Contracts
	})
}

func (b *clientBundle) installPack(t *testing.T, o *spec.Overrides) (api.Installation, error) {
	t.Helper()
	conns := map[string]string{}
	for _, in := range []api.ConnectionInput{
		{Provider: "helpdesk", APIKey: "hd-key", WebhookSecret: "hd-webhook-secret-long-enough"},
		{Provider: "incidents", APIKey: "inc-key"},
		{Provider: "chat", APIKey: "chat-key"},
	} {
		c, err := b.client.CreateConnection(t.Context(), "acme", in)
		require.NoError(t, err)
		conns[in.Provider] = c.ID
	}
	return b.client.CreateInstallationWith(t.Context(), "acme", api.InstallationInput{Contract: "escalation", Connections: conns, Overrides: o})
}

func TestInstallationOverridesAPI(t *testing.T) {
	t.Parallel()
	b := setupPackClient(t)
	inst, err := b.installPack(t, nil)
	require.NoError(t, err)
	ctx := t.Context()

	got, err := b.client.GetOverrides(ctx, "acme", inst.ID)
	require.NoError(t, err)
	require.Empty(t, got.Fields)
	require.Equal(t, []string{"ticket_escalated"}, got.Triggers)
	require.Equal(t, []api.Overridable{
		{Key: "create_incident.title", Kind: "expr"},
		{Key: "create_incident.severity", Kind: "constant", Allowed: []any{float64(1), float64(2), float64(3)}},
		{Key: "notify_chat.channel", Kind: "constant"},
	}, got.Overridable)

	set, err := b.client.SetOverrides(ctx, "acme", inst.ID, api.OverridesInput{Fields: map[string]spec.FieldOverride{
		"create_incident.severity": {Value: 1}, "notify_chat.channel": {Value: "vip"}}})
	require.NoError(t, err)
	require.Equal(t, map[string]spec.FieldOverride{"create_incident.severity": {Value: float64(1)}, "notify_chat.channel": {Value: "vip"}}, set.Fields)
	again, err := b.client.GetInstallation(ctx, "acme", inst.ID)
	require.NoError(t, err)
	require.JSONEq(t, `{"fields":{"create_incident.severity":{"value":1},"notify_chat.channel":{"value":"vip"}}}`, string(again.Overrides))

	// Refused, every problem named, nothing changed.
	_, err = b.client.SetOverrides(ctx, "acme", inst.ID, api.OverridesInput{
		Fields:           map[string]spec.FieldOverride{"create_incident.severity": {Value: 9}, "create_incident.link": {Value: "x"}},
		DisabledTriggers: []string{"ticket_escalated"}})
	require.ErrorContains(t, err, "fields.create_incident.link: contract escalation does not let an installation change create_incident.link; it allows create_incident.title, create_incident.severity, notify_chat.channel")
	require.ErrorContains(t, err, "fields.create_incident.severity: 9 is not a value the target accepts (1, 2, 3)")
	require.ErrorContains(t, err, "disabled_triggers: at least one trigger must stay on")
	still, err := b.client.GetOverrides(ctx, "acme", inst.ID)
	require.NoError(t, err)
	require.Equal(t, set.Fields, still.Fields)

	// Cleared: the contract's own mapping again.
	cleared, err := b.client.SetOverrides(ctx, "acme", inst.ID, api.OverridesInput{})
	require.NoError(t, err)
	require.Empty(t, cleared.Fields)

	audit, err := b.st.ListAudit(ctx, "acme", 0, 100)
	require.NoError(t, err)
	var changes []string
	for _, e := range audit {
		if e.Action == "installation.overrides_changed" {
			changes = append(changes, string(e.Detail))
		}
	}
	require.Len(t, changes, 2, "each accepted change, not the refused one")
	require.Contains(t, changes, `{"disabled_triggers":null,"fields":["create_incident.severity","notify_chat.channel"]}`)
}

func TestInstallWithOverridesChecksThem(t *testing.T) {
	t.Parallel()
	b := setupPackClient(t)
	_, err := b.installPack(t, &spec.Overrides{Fields: map[string]spec.FieldOverride{"create_incident.title": {Expr: "ticket.nope"}}})
	require.ErrorContains(t, err, "fields.create_incident.title: ticket has no field nope")
	list, err := b.st.ListInstallations(t.Context(), "acme")
	require.NoError(t, err)
	require.Empty(t, list, "no installation with overrides its contract refuses")

	inst, err := b.installPack(t, &spec.Overrides{Fields: map[string]spec.FieldOverride{"create_incident.title": {Expr: `"[VIP] " + ticket.title`}}})
	require.NoError(t, err)
	var o spec.Overrides
	require.NoError(t, json.Unmarshal(inst.Overrides, &o))
	require.Equal(t, `"[VIP] " + ticket.title`, o.Fields["create_incident.title"].Expr)
}
