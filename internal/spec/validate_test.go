package spec

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const minimalProvider = `accord: provider/v1
name: p
base_url: http://127.0.0.1:1
auth: {kind: bearer}
objects:
  thing:
    fields: {id: {type: string}}
`

func TestProviderDiagnostics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		yaml string
		want []string
	}{
		{"clean", minimalProvider, nil},
		{"unknown key with suggestion", strings.Replace(minimalProvider, "base_url", "base_ulr", 1),
			[]string{"p.yaml:3:1: unknown key `base_ulr`; did you mean `base_url`?", "p.yaml:1:1: missing required key `base_url`"}},
		{"bad enum", strings.Replace(minimalProvider, "kind: bearer", "kind: baerer", 1),
			[]string{"p.yaml:4:14: `kind` must be one of api_key, bearer, basic, oauth2_code, oauth2_client_credentials, jwt_bearer, got \"baerer\"; did you mean bearer?"}},
		{"wrong type", minimalProvider + "rate_limit: {requests_per_second: fast}\n",
			[]string{"p.yaml:8:35: expected a number, got \"fast\""}},
		{"bad duration", minimalProvider + "webhooks:\n  signature: {scheme: github, tolerance: 5 minutes}\n  event_id: id\n  event_type: header:X-Event\n  object_id: data.id\n  events: {}\n",
			[]string{`p.yaml:9:42: bad duration "5 minutes": use a number with a unit, e.g. 30s, 5m, 24h, 30d`}},
		{"named scheme rejects hmac-only settings", minimalProvider + "webhooks:\n  signature: {scheme: github, prefix: \"sha1=\"}\n  event_id: id\n  event_type: header:X-Event\n  object_id: data.id\n  events: {}\n",
			[]string{"p.yaml:9:39: prefix is fixed by the github scheme: remove it (only the hmac scheme takes prefix, encoding, payload and timestamp_header)"}},
		{"oauth needs urls", strings.Replace(minimalProvider, "kind: bearer", "kind: oauth2_code", 1),
			[]string{"p.yaml:4:7: auth kind oauth2_code needs `authorize_url`", "p.yaml:4:7: auth kind oauth2_code needs `token_url`"}},
		{"if_match on update only", minimalProvider + "    endpoints: {create: {method: POST, path: /things, if_match: true}}\n",
			[]string{"p.yaml:8:65: `if_match` applies to the update endpoint only (it makes updates conditional on the partner's ETag)"}},
		{"if_match needs get", minimalProvider + "    endpoints: {update: {method: PATCH, path: \"/things/{id}\", if_match: true}}\n",
			[]string{"p.yaml:8:73: `if_match` needs a `get` endpoint: after a 412 Accord reads the object's current ETag and writes the newest state on it"}},
		{"endpoint path needs id", minimalProvider + "    endpoints: {get: {method: GET, path: /things}}\n",
			[]string{`p.yaml:8:42: get path "/things" must contain {id}`}},
		{"token auth method only for oauth", strings.Replace(minimalProvider, "kind: bearer", "kind: bearer, token_auth_method: client_secret_post", 1),
			[]string{"p.yaml:4:41: `token_auth_method` only applies to OAuth kinds, not bearer"}},
		{"bad token auth method", strings.Replace(minimalProvider, "kind: bearer", "kind: oauth2_client_credentials, token_url: https://x.example/token, token_auth_method: client_secret_pots", 1),
			[]string{"p.yaml:4:96: `token_auth_method` must be one of client_secret_basic, client_secret_post, private_key_jwt, got \"client_secret_pots\"; did you mean client_secret_post?"}},
		{"private_key_jwt needs a key", strings.Replace(minimalProvider, "kind: bearer", "kind: oauth2_client_credentials, token_url: https://x.example/token, token_auth_method: private_key_jwt", 1),
			[]string{"p.yaml:4:96: token_auth_method private_key_jwt needs `private_key_env` naming the variable that holds the signing key (PEM)"}},
		{"answer window", minimalProvider + "max_answer_window: soon\n",
			[]string{`p.yaml:8:20: bad duration "soon": use a number with a unit, e.g. 30s, 5m, 24h, 30d`}},
		{"batched event id cannot be a header", minimalProvider + "webhooks:\n  signature: {scheme: hubspot}\n  batch: .\n  event_id: header:X-Id\n  event_type: type\n  object_id: objectId\n  events: {}\n",
			[]string{"p.yaml:11:13: event_id header:X-Id: in a batched body each event has its own, so it must be a JSON path inside an element (e.g. eventId), not a header"}},
		{"batch is a path", minimalProvider + "webhooks:\n  signature: {scheme: hubspot}\n  batch: \"events[]\"\n  max_batch: 5000\n  event_id: id\n  event_type: type\n  object_id: objectId\n  events: {}\n",
			[]string{`p.yaml:10:10: batch "events[]" must be a JSON path to the array of events (events, data.items) or . when the body is the array itself`,
				"p.yaml:11:14: max_batch 5000 must be between 1 and 1000"}},
		{"max_batch needs batch", minimalProvider + "webhooks:\n  signature: {scheme: hubspot}\n  max_batch: 10\n  event_id: id\n  event_type: type\n  object_id: objectId\n  events: {}\n",
			[]string{"p.yaml:10:14: max_batch applies only to batched bodies: set batch (the JSON path of the events, . for a bare array) or remove max_batch"}},
		{"pii on a value only", strings.Replace(minimalProvider, "{id: {type: string}}", "{id: {type: string}, address: {type: object, pii: personal}}", 1),
			[]string{"p.yaml:7:63: address: pii applies to a value, not to a whole object: mark the fields inside it"}},
		{"pii kinds", strings.Replace(minimalProvider, "{id: {type: string}}", "{id: {type: string}, mail: {type: string, pii: mail}}", 1),
			[]string{"p.yaml:7:60: `pii` must be one of email, phone, secret, personal, got \"mail\"; did you mean email?"}},
		{"an object without fields is stored unminimised", strings.Replace(minimalProvider, "fields: {id: {type: string}}", "fields: {}", 1) +
			"webhooks:\n  signature: {scheme: github}\n  event_id: id\n  event_type: header:X-Event\n  object_id: data.id\n  events: {a: {object: thing}, b: {object: thing}}\n",
			[]string{"p.yaml:7:5: warning: object thing declares no fields: webhook events carrying it are stored whole, not minimised; declare the fields contracts use"}},
		{"not yaml", "a: [", []string{"p.yaml:1:1: invalid YAML: did not find expected node content"}},
		{"contract given as provider", "accord: contract/v1\n", []string{"p.yaml:1:1: this is a contract/v1 file, expected provider/v1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, diags := ParseProvider("p.yaml", []byte(tc.yaml))
			var got []string
			for _, d := range diags {
				got = append(got, d.String())
			}
			require.ElementsMatch(t, tc.want, got)
		})
	}
}

func TestContractReferenceDiagnostics(t *testing.T) {
	t.Parallel()
	b := loadPack(t)
	base, err := os.ReadFile(filepath.Join(packDir, "contracts", "escalation.yaml"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"unknown provider", "provider: incidents", "provider: incident", "unknown provider incident; did you mean incidents?"},
		{"unknown object", "object: incident\n", "object: incdent\n", "incidents has no object incdent; did you mean incident?"},
		{"unknown event", "ticket.created,", "ticket.create,", "helpdesk sends no event ticket.create; did you mean ticket.created?"},
		{"enum key not a source value", "med: 2", "meduim: 2", "ticket.priority has no value meduim; did you mean med?"},
		{"enum target not allowed", "high: 1", "high: 0", "severity: 0 is not a value the target accepts (1, 2, 3)"},
		{"writes a target-owned field", "      - to: link\n", "      - to: status\n        from: ticket.status\n      - to: link\n", "incident.status is owned by incidents, so this contract never writes it"},
		{"condition not boolean", `condition: ticket.status == "escalated"`, `condition: ticket.status`, "condition must be true or false, but it is string"},
		{"expression type vs target", `expr: '"Escalated: " + ticket.title + " " + ticket.url'`, `expr: ticket.version + 1`, "text is string but the expression gives int"},
		{"required target field unmapped", "      - to: title\n        from: ticket.title\n        override: expr\n", "", "incidents.incident requires title, which no mapping row writes"},
		{"bad semver", "version: 1.0.0", "version: one", `version "one" must be a semantic version such as 1.0.0`},
		{"from must name the trigger object", "from: ticket.url", "from: tikcet.url", "`from` must start with the trigger's object, ticket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := string(base)
			require.Contains(t, src, tc.old)
			src = strings.Replace(src, tc.old, tc.new, 1)
			c, diags := ParseContract("c.yaml", []byte(src))
			diags = append(diags, Resolve(c, b.Providers)...)
			require.NotEmpty(t, diags)
			require.Contains(t, diags.Error(), tc.want)
		})
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	b := loadPack(t)
	p := b.Providers["incidents"]
	for _, tc := range []struct {
		status     int
		body       string
		class, msg string
	}{
		{201, `{"incident":{}}`, "", ""},
		{401, `{"error":{"message":"token expired"}}`, ClassAuth, "token expired"},
		{403, `{}`, ClassPermission, ""},
		{422, `{"error":{"message":"title is required"}}`, ClassValidation, "title is required"},
		{429, ``, ClassRateLimited, ""},
		{503, `upstream down`, ClassTransient, "upstream down"},
		{418, `{}`, ClassValidation, ""},
	} {
		class, msg := p.Classify(tc.status, []byte(tc.body))
		require.Equal(t, tc.class, class, "status %d", tc.status)
		require.Equal(t, tc.msg, msg, "status %d", tc.status)
	}
}

func TestParseEvent(t *testing.T) {
	t.Parallel()
	p := loadPack(t).Providers["helpdesk"]
	ev, err := p.ParseEvent(http.Header{}, []byte(`{"id":"evt_1","type":"ticket.updated","timestamp":"2025-01-01T00:00:00Z","data":{"id":"t_1","version":7,"status":"escalated"}}`))
	require.NoError(t, err)
	require.Equal(t, "evt_1", ev.ID)
	require.Equal(t, "ticket.updated", ev.Type)
	require.Equal(t, "t_1", ev.ObjectID)
	require.Equal(t, int64(7), ev.Version)
	require.Equal(t, "escalated", ev.Object["status"])

	for _, body := range []string{`[]`, `{"type":"x","data":{"id":"t"}}`, `{"id":"e","type":"x","data":{"id":"t","version":"v7"}}`} {
		_, err := p.ParseEvent(http.Header{}, []byte(body))
		require.ErrorIs(t, err, ErrBadEvent, body)
	}
}

func TestEndpointExpand(t *testing.T) {
	t.Parallel()
	b := loadPack(t)
	create, err := b.Providers["chat"].Objects["message"].Endpoint("create")
	require.NoError(t, err)
	doc := map[string]any{"channel": "sev 1", "text": "hi"}
	path, body, err := create.Expand(nil, doc)
	require.NoError(t, err)
	require.Equal(t, "/v1/channels/sev%201/messages", path)
	require.Equal(t, map[string]any{"text": "hi"}, body)
	require.Contains(t, doc, "channel", "the caller's document is not modified")

	find, err := b.Providers["incidents"].Objects["incident"].Endpoint("find_by_external_id")
	require.NoError(t, err)
	path, _, err = find.Expand(map[string]string{"external_id": "t 1&x"}, nil)
	require.NoError(t, err)
	require.Equal(t, "/v1/incidents?external_id=t+1%26x", path)

	_, _, err = create.Expand(nil, map[string]any{"text": "no channel"})
	require.ErrorContains(t, err, "no value for {channel}")
	_, err = b.Providers["chat"].Objects["message"].Endpoint("delete")
	require.ErrorIs(t, err, ErrNoEndpoint)
}

func TestExpandEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SET": "http://x", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for in, want := range map[string]string{
		"${SET:-http://d}":   "http://x",
		"${UNSET:-http://d}": "http://d",
		"${EMPTY:-http://d}": "http://d",
		"${EMPTY}":           "",
		"a${SET}b":           "ahttp://xb",
	} {
		require.Equal(t, want, ExpandEnv(in, lookup), in)
	}
}

func TestEditDistanceSuggestions(t *testing.T) {
	t.Parallel()
	require.Equal(t, "title", suggest("titel", []string{"title", "description"}))
	require.Equal(t, "", suggest("zzz", []string{"title", "description"}))
	require.Equal(t, 1, editDistance("titel", "title"))
}

// A null where a value is required (an empty `-`, a key with nothing after
// it) is rejected where it is written, in provider manifests and packs as
// in contracts; before, they decoded to nil entries that crashed lint,
// explain or start-up.
func TestNullsAreRejectedWithPositions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"null object", minimalProvider + "  other:\n",
			[]string{"p.yaml:8:3: `other` has no value: expected a mapping with keys description, id, version, merged_ids, updated_at, fields, endpoints; fill it in or remove `other`"}},
		{"null field", strings.Replace(minimalProvider, "{id: {type: string}}", "{id: {type: string}, name: }", 1),
			[]string{"p.yaml:7:34: `name` has no value: expected a mapping with keys type, enum, required, read_only, description, fields, items, pii; fill it in or remove `name`"}},
		{"null scope", minimalProvider + "scopes: [~]\n",
			[]string{"p.yaml:8:10: empty list item: expected a mapping with keys name, description, optional; fill it in or delete the `-` line"}},
		{"null event", minimalProvider + "webhooks:\n  signature: {scheme: github}\n  event_id: id\n  event_type: header:X-Event\n  object_id: data.id\n  events:\n    thing.updated:\n",
			[]string{"p.yaml:14:5: `thing.updated` has no value: expected a mapping with keys object, description, deletes, object_id, object_version; fill it in or remove `thing.updated`"}},
		{"null error rule", minimalProvider + "errors:\n  rules:\n    -\n",
			[]string{"p.yaml:10:6: empty list item: expected a mapping with keys status, body_contains, class; fill it in or delete the `-` line"}},
		{"null scalar", minimalProvider + "title:\n",
			[]string{"p.yaml:8:7: no value here: expected a string; fill it in or remove it"}},
		{"null endpoint", minimalProvider + "    endpoints: {get: }\n",
			[]string{"p.yaml:8:17: `get` has no value: expected a mapping with keys method, path, body, item, items, id_path, idempotency_header, if_match, query, request, since, encoding, headers; fill it in or remove `get`"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, diags := ParseProvider("p.yaml", []byte(tc.yaml))
			require.NotNil(t, p)
			p.Classify(500, []byte(`{}`))
			var got []string
			for _, d := range diags {
				got = append(got, d.String())
			}
			require.ElementsMatch(t, tc.want, got)
		})
	}
}

func TestNullPackRecommendation(t *testing.T) {
	t.Parallel()
	_, diags := ParsePack("pack.yaml", []byte("accord: pack/v1\nname: p\ntitle: P\ncontracts: [c]\nrecommended:\n  - contract: c\n  -\n"))
	require.Equal(t, "pack.yaml:7:4: empty list item: expected a mapping with keys contract, enabled, defaults, rollout; fill it in or delete the `-` line", diags.Error())
}

// Every diagnostic points into the file: a problem found in a block that
// was left out or written as the wrong kind of value is reported at the
// nearest node, never at file:0:0.
func TestDiagnosticsAlwaysHavePositions(t *testing.T) {
	t.Parallel()
	providers := []string{
		minimalProvider + "webhooks:\n  event_id: id\n  event_type: type\n  object_id: data.id\n  events: {}\n",
		minimalProvider + "webhooks: 5\n",
		minimalProvider + "  other: {endpoints: {get: 3}}\n",
		strings.Replace(minimalProvider, "auth: {kind: bearer}", "auth: 7", 1),
		minimalProvider + "errors: {rules: [{status: 7xx}]}\n",
	}
	for i, y := range providers {
		_, diags := ParseProvider("p.yaml", []byte(y))
		require.NotEmpty(t, diags, "provider %d", i)
		for _, d := range diags {
			require.Positive(t, d.Line, "provider %d: %s", i, d)
			require.Positive(t, d.Col, "provider %d: %s", i, d)
		}
	}
	contracts := []string{
		"accord: contract/v1\nactions:\n  - mapping:\n    - 0\n",
		"accord: contract/v1\nname: c\nversion: 1\nproviders: [p]\ndirection: one_way\ntriggers: {t: {webhook: 5}}\nactions: [{name: a, trigger: t, provider: p, object: thing, op: create, mapping: [{to: id, default: x}]}]\n",
		"accord: contract/v1\nname: c\nversion: 1\nproviders: [p]\ndirection: one_way\nfailure: 3\ntriggers: {t: {schedule: {provider: p, object: thing}}}\nactions: [{name: a, trigger: t, provider: p, object: thing, op: create, mapping: [5]}]\n",
	}
	p, pd := ParseProvider("p.yaml", []byte(minimalProvider))
	require.Empty(t, pd)
	for i, y := range contracts {
		c, diags := ParseContract("c.yaml", []byte(y))
		if c != nil {
			diags = append(diags, Resolve(c, map[string]*Provider{"p": p})...)
		}
		require.NotEmpty(t, diags, "contract %d", i)
		for _, d := range diags {
			require.Positive(t, d.Line, "contract %d: %s", i, d)
			require.Positive(t, d.Col, "contract %d: %s", i, d)
		}
	}
}

func TestUnreadableFileHasNoFakePosition(t *testing.T) {
	t.Parallel()
	diags := Lint(filepath.Join(t.TempDir(), "missing.yaml"))
	require.Len(t, diags, 1)
	require.NotContains(t, diags.Error(), ":0:0")
	require.Contains(t, diags.Error(), "missing.yaml: cannot read:")
}

// A schedule trigger lints clean when the engine can run it (a list
// endpoint and a version field), and names what is missing otherwise.
func TestScheduleTriggersNeedAListAndAVersion(t *testing.T) {
	t.Parallel()
	lint := func(provider string) string {
		p, pd := ParseProvider("p.yaml", []byte(provider))
		require.Empty(t, pd)
		c, diags := ParseContract("c.yaml", []byte("accord: contract/v1\nname: c\nversion: 1.0.0\nproviders: [p]\ndirection: one_way\n"+
			"triggers: {t: {schedule: {provider: p, object: thing, every: 5m}}}\n"+
			"actions: [{name: a, trigger: t, provider: p, object: thing, op: update, mapping: [{to: id, from: thing.id}]}]\n"))
		if c != nil {
			diags = append(diags, Resolve(c, map[string]*Provider{"p": p})...)
		}
		var msgs []string
		for _, d := range diags {
			msgs = append(msgs, d.String())
		}
		return strings.Join(msgs, "\n")
	}
	got := lint(minimalProvider)
	require.Contains(t, got, "c.yaml:6:48: thing has no list endpoint to poll")
	require.Contains(t, got, "c.yaml:6:48: thing has no `version` field")
	polls := strings.Replace(minimalProvider, "fields: {id: {type: string}}",
		"version: updated\n    fields: {id: {type: string}, updated: {type: int}}\n    endpoints: {list: {method: GET, path: /things, items: data, since: updated_since}, update: {method: PATCH, path: \"/things/{id}\"}}", 1)
	require.Empty(t, lint(polls))
}
