package spec

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const tenantHostProvider = `accord: provider/v1
name: p
base_url: https://{connection.sub}.partner.com/api
connection_settings:
  sub: {description: your subdomain, format: dns_label}
  from: {description: a user's email, format: email}
headers: {From: "{connection.from}"}
auth: {kind: bearer}
objects:
  thing:
    fields: {id: {type: string}}
`

func TestConnectionSettingDiagnostics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, from, to, want string }{
		{"clean", "", "", ""},
		{"whole host chosen by the tenant", "{connection.sub}.partner.com/api", "{connection.sub}/api", "must be followed by the partner's own domain"},
		{"tenant picks the domain", "{connection.sub}.partner.com", "api.{connection.sub}.com", "must be followed by the partner's own domain"},
		{"part of a label", "{connection.sub}.partner", "x{connection.sub}.partner", "must be a whole host label"},
		{"in the path", "partner.com/api", "partner.com/{connection.sub}", "may only stand for a label of the host"},
		{"not a dns_label", "format: dns_label", "format: text", "must have format dns_label"},
		{"undeclared in base_url", "{connection.sub}.partner", "{connection.subb}.partner", "is not a connection setting; did you mean sub?"},
		{"undeclared in header", `"{connection.from}"`, `"{connection.frm}"`, "header From: {connection.frm} is not a connection setting"},
		{"reserved header", "{From:", "{Authorization:", "header Authorization is set by Accord itself"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, diags := ParseProvider("p.yaml", []byte(strings.Replace(tenantHostProvider, tc.from, tc.to, 1)))
			if tc.want == "" {
				require.Empty(t, diags)
				return
			}
			require.Len(t, diags, 1, "%v", diags)
			require.Contains(t, diags[0].String(), tc.want)
		})
	}
}

func TestCheckSettings(t *testing.T) {
	t.Parallel()
	p, diags := ParseProvider("p.yaml", []byte(tenantHostProvider))
	require.Empty(t, diags)

	got, err := p.CheckSettings(map[string]string{"sub": " Acme ", "from": "oncall@example.com"})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"sub": "acme", "from": "oncall@example.com"}, got)

	for name, in := range map[string]map[string]string{
		"missing":       {"from": "oncall@example.com"},
		"unknown":       {"sub": "acme", "from": "a@example.com", "host": "x"},
		"two labels":    {"sub": "acme.evil.com", "from": "a@example.com"},
		"port":          {"sub": "acme:8080", "from": "a@example.com"},
		"not an email":  {"sub": "acme", "from": "oncall"},
		"header inject": {"sub": "acme", "from": "a@example.com\r\nX-Evil: 1"},
	} {
		_, err := p.CheckSettings(in)
		require.ErrorIs(t, err, ErrBadSetting, name)
	}

	url, err := p.ExpandSettings(p.BaseURL, map[string]string{"sub": "acme"})
	require.NoError(t, err)
	require.Equal(t, "https://acme.partner.com/api", url)
	_, err = p.ExpandSettings(p.BaseURL, map[string]string{"sub": "evil.com#"})
	require.ErrorIs(t, err, ErrBadSetting, "a stored value is checked again")
}
