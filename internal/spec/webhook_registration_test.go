package spec

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// registrationProvider is a provider whose webhooks block ends with a
// registration (line 15 on), for the cases below to replace.
const registrationProvider = minimalProvider + `webhooks:
  signature: {scheme: standard-webhooks}
  event_id: id
  event_type: type
  object_id: data.id
  events: {thing.changed: {object: thing}}
  registration:
    create:
      method: POST
      path: /webhooks
      request: {url: "{url}", events: "{events}", secret: "{secret}"}
      id_path: id
    delete: {method: DELETE, path: "/webhooks/{id}"}
    list: {method: GET, path: /webhooks, items: webhooks}
    secret: generated
`

func TestWebhookRegistrationDiagnostics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, old, new string
		want           []string
	}{
		{"valid", "", "", nil},
		{"issued with its path", `, secret: "{secret}"}`, "}", nil},
		{"no id_path", "      id_path: id\n", "", []string{"p.yaml:16:7: create needs `id_path`: where the subscription id is in the answer (kept to delete the subscription on uninstall)"}},
		{"no url in request", `url: "{url}", `, "", []string{"p.yaml:18:16: create needs a `request` template with \"{url}\": the partner must be told where to send webhooks, e.g. request: {url: \"{url}\", events: \"{events}\"}"}},
		{"unknown placeholder", `"{events}"`, `"{event}"`, []string{"p.yaml:18:16: create request placeholder {event} is not {url}, {events} or {secret}; did you mean events?"}},
		{"generated but not sent", `, secret: "{secret}"`, "", []string{"p.yaml:18:16: secret generated: the create request must send it, e.g. secret: \"{secret}\""}},
		{"delete without id", `"/webhooks/{id}"`, "/webhooks", []string{"p.yaml:20:36: delete path \"/webhooks\" must contain {id}: the subscription id create returned"}},
		{"create with id", "path: /webhooks\n      request", "path: \"/webhooks/{id}\"\n      request", []string{"p.yaml:17:13: create path \"/webhooks/{id}\" must not contain {id}: the subscription has no id before it is created"}},
		{"list without items", ", items: webhooks}", "}", []string{"p.yaml:21:11: list needs `items`: where the list of subscriptions is in the response"}},
		{"secret mode misspelt", "secret: generated", "secret: generate", []string{"p.yaml:22:13: `secret` must be one of generated, issued, got \"generate\"; did you mean generated?"}},
		{"no secret mode", "    secret: generated\n", "", []string{"p.yaml:15:5: missing required key `secret`"}},
		{"no delete", "    delete: {method: DELETE, path: \"/webhooks/{id}\"}\n", "", []string{"p.yaml:15:5: missing required key `delete`"}},
		{"url_path without list", "    list: {method: GET, path: /webhooks, items: webhooks}\n", "    url_path: target\n", []string{"p.yaml:21:15: `url_path` needs a `list` endpoint: it says where a listed subscription's URL is"}},
		{"query on delete", `path: "/webhooks/{id}"}`, `path: "/webhooks/{id}", query: {a: b}}`, []string{"p.yaml:20:61: `query` does not apply to a webhook registration's delete endpoint"}},
		{"generated with secret_path", "secret: generated", "secret: generated\n    secret_path: secret", []string{"p.yaml:23:18: `secret_path` applies to secret: issued only; a generated secret is Accord's own"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			y := registrationProvider
			if tc.old != "" {
				require.Contains(t, y, tc.old)
				y = strings.Replace(y, tc.old, tc.new, 1)
			}
			if tc.name == "issued with its path" {
				y = strings.Replace(y, "secret: generated", "secret: issued\n    secret_path: signing.secret", 1)
			}
			p, diags := ParseProvider("p.yaml", []byte(y))
			var got []string
			for _, d := range diags {
				got = append(got, d.String())
			}
			require.ElementsMatch(t, tc.want, got)
			if len(tc.want) == 0 {
				require.NotNil(t, p.Webhooks.Registration)
			}
		})
	}
}

func TestWebhookRegistrationIssuedNeedsPath(t *testing.T) {
	t.Parallel()
	y := strings.Replace(registrationProvider, `, secret: "{secret}"}`, "}", 1)
	y = strings.Replace(y, "secret: generated", "secret: issued", 1)
	_, diags := ParseProvider("p.yaml", []byte(y))
	require.Equal(t, "p.yaml:22:13: secret issued needs `secret_path`: where the signing secret is in the create answer, e.g. secret", diags.Error())

	y = strings.Replace(registrationProvider, "secret: generated", "secret: issued\n    secret_path: secret", 1)
	_, diags = ParseProvider("p.yaml", []byte(y))
	require.Equal(t, "p.yaml:18:16: secret issued: the partner makes the secret, so the create request cannot send {secret}; use secret: generated instead", diags.Error())
}
