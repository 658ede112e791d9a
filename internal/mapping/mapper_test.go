package mapping

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

const packDir = "../../packs/support-escalation"

type bundle struct {
	b        *spec.Bundle
	contract *spec.Contract
}

func setup(t testing.TB) *bundle {
	t.Helper()
	b, diags := spec.LoadDir(packDir)
	require.Empty(t, diags, diags.Error())
	return &bundle{b: b, contract: b.Contracts["escalation"]}
}

func (bb *bundle) mapper(t testing.TB, action string, cfg *Config) *Mapper {
	t.Helper()
	for _, a := range bb.contract.Actions {
		if a.Name == action {
			src := bb.b.Providers["helpdesk"].Objects["ticket"]
			dst := bb.b.Providers[a.Provider].Objects[a.Object]
			m, err := New(a, src, dst, cfg)
			require.NoError(t, err)
			return m
		}
	}
	t.Fatalf("no action %s", action)
	return nil
}

func ticket() map[string]any {
	return map[string]any{
		"id": "t_1", "title": "Checkout down", "description": "500s on pay", "priority": "high",
		"status": "escalated", "customer_id": "c_9", "url": "http://helpdesk/t/1",
		"version": float64(3), "updated_at": "2025-01-02T03:04:05Z",
	}
}

func TestEscalationMapping(t *testing.T) {
	t.Parallel()
	bb := setup(t)
	m := bb.mapper(t, "create_incident", nil)
	require.Equal(t, []string{"title", "severity", "link", "description", "external_id"}, m.Fields())

	for _, tc := range []struct {
		name     string
		edit     func(map[string]any)
		severity any
		wantErr  string
	}{
		{name: "high is 1", edit: func(map[string]any) {}, severity: int64(1)},
		{name: "low is 3", edit: func(t map[string]any) { t["priority"] = "low" }, severity: int64(3)},
		{name: "missing priority defaults to 2", edit: func(t map[string]any) { delete(t, "priority") }, severity: int64(2)},
		{name: "null priority defaults to 2", edit: func(t map[string]any) { t["priority"] = nil }, severity: int64(2)},
		{name: "unknown priority defaults to 2", edit: func(t map[string]any) { t["priority"] = "urgent" }, severity: int64(2)},
		{name: "missing title fails", edit: func(t map[string]any) { delete(t, "title") }, wantErr: "title: missing in the source and no default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := ticket()
			tc.edit(src)
			res, err := m.Map(src)
			if tc.wantErr != "" {
				require.EqualError(t, err, tc.wantErr)
				require.ErrorIs(t, err, ErrMissing)
				return
			}
			require.NoError(t, err)
			require.Equal(t, map[string]any{
				"title": "Checkout down", "severity": tc.severity, "link": "http://helpdesk/t/1",
				"description": "500s on pay", "external_id": "t_1",
			}, res.Doc)
		})
	}
}

func TestChatMessageUsesCELAndConstant(t *testing.T) {
	t.Parallel()
	bb := setup(t)
	m := bb.mapper(t, "notify_chat", nil)
	res, err := m.Map(ticket())
	require.NoError(t, err)
	require.Equal(t, map[string]any{"channel": "escalations", "text": "Escalated: Checkout down http://helpdesk/t/1"}, res.Doc)

	// A pack's recommended default overrides the contract's constant.
	m = bb.mapper(t, "notify_chat", &Config{Defaults: map[string]any{"channel": "sev1"}})
	res, err = m.Map(ticket())
	require.NoError(t, err)
	require.Equal(t, "sev1", res.Doc["channel"])

	// An expression reading a missing field leaves a required field unset: an error, not "Escalated:  <nil>".
	src := ticket()
	delete(src, "url")
	_, err = m.Map(src)
	require.ErrorIs(t, err, ErrMissing)
}

func TestUnknownSourceFieldsAreCountedNotFatal(t *testing.T) {
	t.Parallel()
	bb := setup(t)
	m := bb.mapper(t, "create_incident", nil)
	src := ticket()
	src["sla_tier"] = "gold"
	src["assignee"] = map[string]any{"id": "u1"}
	res, err := m.Map(src)
	require.NoError(t, err)
	require.Equal(t, 2, res.Unknown)
	require.Equal(t, []string{"assignee", "sla_tier"}, res.UnknownFields)
}

func TestSkipOwnedFields(t *testing.T) {
	t.Parallel()
	bb := setup(t)
	m := bb.mapper(t, "create_incident", &Config{Skip: []string{"severity"}})
	res, err := m.Map(ticket())
	require.NoError(t, err)
	require.NotContains(t, res.Doc, "severity")
	require.NotContains(t, m.Fields(), "severity")
}

// custom compiles an ad-hoc contract over an ad-hoc provider, to reach the
// corners the shipped pack does not use.
func custom(t *testing.T, rows string) (*Mapper, error) {
	t.Helper()
	p, diags := spec.ParseProvider("p.yaml", []byte(`accord: provider/v1
name: crm
base_url: http://127.0.0.1:1
auth: {kind: bearer}
webhooks:
  signature: {scheme: hmac, header: X-Sig}
  event_id: id
  event_type: type
  object_id: data.id
  events: {account.updated: {object: account}}
objects:
  account:
    fields:
      id: {type: string}
      name: {type: string}
      seats: {type: string}
      mrr: {type: float}
      active: {type: string}
      tier: {type: string, enum: [free, pro]}
      owner: {type: object, fields: {email: {type: string}, since: {type: timestamp}}}
      meta: {type: object}
    endpoints:
      create: {method: POST, path: /accounts, idempotency_header: Idempotency-Key}
`))
	require.Empty(t, diags, diags.Error())
	c, diags := spec.ParseContract("c.yaml", []byte(`accord: contract/v1
name: t
version: 1.0.0
providers: [crm]
direction: one_way
triggers: {changed: {webhook: {provider: crm, events: [account.updated]}}}
actions:
  - name: copy
    trigger: changed
    provider: crm
    object: account
    op: create
    mapping:
`+rows))
	require.Empty(t, diags, diags.Error())
	diags = spec.Resolve(c, map[string]*spec.Provider{"crm": p})
	require.Empty(t, diags, diags.Error())
	return New(c.Actions[0], p.Objects["account"], p.Objects["account"], nil)
}

func TestMapperCorners(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		rows    string
		src     map[string]any
		want    map[string]any
		wantErr error
		msg     string
	}{
		{
			name: "nested from and nested to",
			rows: "      - {to: owner.email, from: account.owner.email}\n",
			src:  map[string]any{"owner": map[string]any{"email": "a@b.c"}},
			want: map[string]any{"owner": map[string]any{"email": "a@b.c"}},
		},
		{
			name: "string to int conversion",
			rows: "      - {to: name, from: account.seats, type: int}\n",
			src:  map[string]any{"seats": "12"},
			want: map[string]any{"name": int64(12)},
		},
		{
			name:    "impossible conversion names the field",
			rows:    "      - {to: name, from: account.seats, type: int}\n",
			src:     map[string]any{"seats": "abc"},
			wantErr: spec.ErrConvert,
			msg:     `name: cannot convert "abc" to int`,
		},
		{
			name: "int to float and bool from string",
			rows: "      - {to: mrr, from: account.mrr}\n      - {to: active, from: account.active, type: bool}\n",
			src:  map[string]any{"mrr": float64(99), "active": "true"},
			want: map[string]any{"mrr": float64(99), "active": true},
		},
		{
			name:    "value outside the target enum",
			rows:    "      - {to: tier, from: account.name}\n",
			src:     map[string]any{"name": "enterprise"},
			wantErr: ErrNotAllowed,
			msg:     "tier: not an allowed value: enterprise (allowed: free, pro)",
		},
		{
			name:    "enum map without default rejects unmapped values",
			rows:    "      - {to: tier, from: account.name, enum: {basic: free}}\n",
			src:     map[string]any{"name": "gold"},
			wantErr: ErrUnmapped,
		},
		{
			name: "timestamp normalised to UTC RFC 3339",
			rows: "      - {to: owner.since, from: account.owner.since}\n",
			src:  map[string]any{"owner": map[string]any{"since": "2025-01-02T05:04:05+02:00"}},
			want: map[string]any{"owner": map[string]any{"since": "2025-01-02T03:04:05Z"}},
		},
		{
			name: "CEL over typed fields, timestamps and maps",
			rows: "      - {to: name, expr: 'account.owner.email.split(\"@\")[1] + \"/\" + string(account.owner.since.getFullYear())'}\n" +
				"      - {to: meta, expr: '{\"n\": size(account.name)}'}\n",
			src:  map[string]any{"name": "abc", "owner": map[string]any{"email": "x@acme.io", "since": "2024-06-01T00:00:00Z"}},
			want: map[string]any{"name": "acme.io/2024", "meta": map[string]any{"n": int64(3)}},
		},
		{
			name:    "CEL cost limit stops runaway expressions",
			rows:    "      - {to: name, expr: 'string(size([1,2,3,4,5,6,7,8,9,10].map(a, [1,2,3,4,5,6,7,8,9,10].map(b, [1,2,3,4,5,6,7,8,9,10].map(c, [1,2,3,4,5,6,7,8,9,10].map(d, [1,2,3,4,5,6,7,8,9,10].map(e, a*b*c*d*e)))))))'}\n",
			src:     map[string]any{},
			wantErr: ErrExpr,
		},
		{
			name: "all failing fields are reported together",
			rows: "      - {to: name, from: account.seats, type: int}\n      - {to: mrr, from: account.name}\n",
			src:  map[string]any{"seats": "x", "name": "y"},
			msg:  "name: cannot convert \"x\" to int\nmrr: cannot convert \"y\" to float",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := custom(t, tc.rows)
			require.NoError(t, err)
			res, err := m.Map(tc.src)
			if tc.wantErr != nil || tc.msg != "" {
				require.Error(t, err)
				if tc.wantErr != nil {
					require.ErrorIs(t, err, tc.wantErr)
				}
				if tc.msg != "" {
					require.EqualError(t, err, tc.msg)
				}
				var fe *FieldError
				require.True(t, errors.As(err, &fe))
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, res.Doc)
		})
	}
}

func TestCondition(t *testing.T) {
	t.Parallel()
	bb := setup(t)
	ticketObj := bb.b.Providers["helpdesk"].Objects["ticket"]
	c, err := NewCondition(ticketObj, bb.contract.Triggers["ticket_escalated"].Webhook.Condition, 0)
	require.NoError(t, err)
	for _, tc := range []struct {
		status any
		want   bool
	}{{"escalated", true}, {"open", false}, {nil, false}} {
		src := ticket()
		if tc.status == nil {
			delete(src, "status")
		} else {
			src["status"] = tc.status
		}
		got, err := c.Match(src)
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "status %v", tc.status)
	}
	_, err = NewCondition(ticketObj, "ticket.title", 0)
	require.Error(t, err)
}

func BenchmarkMap(b *testing.B) {
	bb := setup(b)
	m := bb.mapper(b, "create_incident", nil)
	chat := bb.mapper(b, "notify_chat", nil)
	src := ticket()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Map(src); err != nil {
			b.Fatal(err)
		}
		if _, err := chat.Map(src); err != nil {
			b.Fatal(err)
		}
	}
}
