package ui

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`{"a":1,"password":"p","nested":{"API_KEY":"k","ok":"fine"}}`, `{"a":1,"password":"[redacted]","nested":{"API_KEY":"[redacted]","ok":"fine"}}`},
		{`[{"Authorization":"Bearer x"},{"note":"mail bob@example.org now"}]`, `[{"Authorization":"[redacted]"},{"note":"mail b***@example.org now"}]`},
		{`"plain"`, `"plain"`},
		{`not json`, `"[redacted]"`},
	}
	for _, tc := range tests {
		got, err := json.Marshal(redactJSON(json.RawMessage(tc.in)))
		require.NoError(t, err)
		require.JSONEq(t, tc.want, string(got), tc.in)
	}
	require.Nil(t, redactJSON(nil))
	require.Equal(t, "no address here", redactText("no address here"))
}
