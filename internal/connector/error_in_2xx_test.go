package connector

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

// A partner that reports failures inside a 200 (Slack) gets a record error,
// not a success linked to nothing, when its manifest says how to tell.
func TestErrorIn2xxByManifestRule(t *testing.T) {
	t.Parallel()
	slackRules := func(p *spec.Provider, _ *Config) {
		p.Errors = &spec.Errors{Message: "error", Rules: []spec.ErrorRule{
			{Status: spec.StatusList{{Lo: 200, Hi: 200}}, BodyContains: `"error":"channel_not_found"`, Class: spec.ClassNotFound},
			{Status: spec.StatusList{{Lo: 200, Hi: 200}}, BodyContains: `"ok":false`, Class: spec.ClassValidation},
			// Without body text a rule never turns a 2xx into an error.
			{Status: spec.StatusList{{Lo: 200, Hi: 299}}, Class: spec.ClassTransient},
		}}
	}
	for _, tc := range []struct {
		name, body, class, message string
	}{
		{"named error", `{"ok":false,"error":"channel_not_found"}`, spec.ClassNotFound, "channel_not_found"},
		{"any other failure", `{"ok":false,"error":"msg_too_long"}`, spec.ClassValidation, "msg_too_long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, reply(200, tc.body), slackRules)
			_, err := b.conn.Create(context.Background(), Call{Object: "incident", Doc: map[string]any{"title": "x"}, Auth: apiKey()})
			var pe *PartnerError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.class, pe.Class)
			require.Equal(t, 200, pe.Status)
			require.Equal(t, tc.message, pe.Message)
		})
	}
	t.Run("success", func(t *testing.T) {
		t.Parallel()
		b := setup(t, reply(200, `{"ok":true,"incident":{"id":"42"}}`), slackRules)
		res, err := b.conn.Create(context.Background(), Call{Object: "incident", Doc: map[string]any{"title": "x"}, Auth: apiKey()})
		require.NoError(t, err)
		require.Equal(t, "42", res.ID)
	})
}
