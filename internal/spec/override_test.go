package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOverrideKindIsLintedWithPosition(t *testing.T) {
	t.Parallel()
	b := loadPack(t)
	base, err := os.ReadFile(filepath.Join(packDir, "contracts", "escalation.yaml"))
	require.NoError(t, err)
	src := strings.Replace(string(base), "override: constant\n", "override: anything\n", 1)
	c, diags := ParseContract("c.yaml", []byte(src))
	diags = append(diags, Resolve(c, b.Providers)...)
	require.Len(t, diags, 1, diags.Error())
	line := 1 + strings.Count(src[:strings.Index(src, "override: anything")], "\n")
	require.Equal(t, line, diags[0].Line)
	require.Equal(t, "c.yaml", diags[0].File)
	require.Contains(t, diags[0].Message, "`override` must be one of constant, expr")
}

func TestCheckOverrides(t *testing.T) {
	t.Parallel()
	b := loadPack(t)
	c := b.Contracts["escalation"]
	var keys []string
	for _, ov := range c.Overridables(b.Providers) {
		keys = append(keys, ov.Key+"="+ov.Kind)
	}
	require.Equal(t, []string{"create_incident.title=expr", "create_incident.severity=constant", "notify_chat.channel=constant"}, keys)

	for _, tc := range []struct {
		name string
		o    Overrides
		want []string // "key: message fragment"; none: valid
	}{
		{"valid", Overrides{Fields: map[string]FieldOverride{
			"create_incident.severity": {Value: 1},
			"create_incident.title":    {Expr: `"[VIP] " + ticket.title`},
			"notify_chat.channel":      {Value: "vip-escalations"},
		}}, nil},
		{"a fixed row", Overrides{Fields: map[string]FieldOverride{"create_incident.link": {Value: "x"}}},
			[]string{"fields.create_incident.link: contract escalation does not let an installation change create_incident.link; it allows create_incident.title, create_incident.severity, notify_chat.channel"}},
		{"a value the target refuses", Overrides{Fields: map[string]FieldOverride{"create_incident.severity": {Value: 7}}},
			[]string{"fields.create_incident.severity: 7 is not a value the target accepts (1, 2, 3)"}},
		{"an expression where a constant is allowed", Overrides{Fields: map[string]FieldOverride{"create_incident.severity": {Expr: "1"}}},
			[]string{"fields.create_incident.severity: only a constant value is allowed here"}},
		{"an expression of the wrong type", Overrides{Fields: map[string]FieldOverride{"create_incident.title": {Expr: "ticket.version + 1"}}},
			[]string{"fields.create_incident.title: title is string but the expression gives int"}},
		{"an expression reading a missing field", Overrides{Fields: map[string]FieldOverride{"create_incident.title": {Expr: "ticket.titel"}}},
			[]string{"fields.create_incident.title: ticket has no field titel; did you mean title?"}},
		{"an unknown trigger", Overrides{DisabledTriggers: []string{"ticket_escalatd"}},
			[]string{"disabled_triggers: contract escalation has no trigger ticket_escalatd; did you mean ticket_escalated?"}},
		{"every trigger off", Overrides{DisabledTriggers: []string{"ticket_escalated"}},
			[]string{"disabled_triggers: at least one trigger must stay on"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			probs := c.CheckOverrides(b.Providers, tc.o)
			require.Len(t, probs, len(tc.want), "%v", probs)
			for i, w := range tc.want {
				require.Contains(t, probs[i].String(), w)
			}
		})
	}
}

func TestWithOverridesLeavesTheContractAlone(t *testing.T) {
	t.Parallel()
	c := loadPack(t).Contracts["escalation"]
	o := c.WithOverrides(Overrides{Fields: map[string]FieldOverride{"notify_chat.channel": {Value: "vip"}}})
	require.NotSame(t, c, o)
	require.Equal(t, "escalations", c.Actions[1].Mapping[0].Default)
	require.Equal(t, "vip", o.Actions[1].Mapping[0].Default)
	require.True(t, o.Actions[1].Mapping[0].HasDefault())
	require.Same(t, c.Actions[0].Mapping[1], o.Actions[0].Mapping[1], "rows not overridden are shared")
}
