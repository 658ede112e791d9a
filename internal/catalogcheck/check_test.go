package catalogcheck

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

// The check is not a rubber stamp: a manifest drifted in every way it
// looks for gets one positioned diagnostic per difference.
func TestCheckReportsDrift(t *testing.T) {
	t.Parallel()
	file := filepath.Join("testdata", "drift", "zendesk_drifted.yaml")
	p, diags := spec.LoadProvider(file)
	require.Empty(t, diags, diags.Error())
	doc, err := LoadDocument(filepath.Join("testdata", "zendesk-tickets.yaml"))
	require.NoError(t, err)

	var got []string
	for _, d := range Check(p, doc) {
		got = append(got, d.String())
	}
	require.Equal(t, []string{
		file + ":6:29: auth.test: GET /api/v2/me.json is not in the vendor's document",
		file + ":12:23: ticket.subject is int here but string in the vendor's document",
		file + ":13:16: ticket.comment: the vendor requires it on create; mark it required: true so contracts map it or give it a default",
		file + ":14:38: ticket.priority: the vendor does not list the value medium (it has high, low, normal, urgent)",
		file + ":15:21: ticket.satisfaction is not in the vendor's schemas for this object",
		file + ":17:57: ticket.list: the vendor's response has no results",
		file + ":18:90: ticket.create: the vendor's response has no ticket.number",
		file + ":19:24: ticket.update: the vendor's /api/v2/tickets/{ticket_id} takes GET, PUT, not PATCH",
		file + ":20:48: ticket.find_by_external_id: GET /api/v2/tickets takes no query parameter external_key",
	}, got)
}

// Swagger 2.0 documents are converted on load, and tuple-style items
// (which Slack's document uses) do not stop it.
func TestParseDocumentSwagger2(t *testing.T) {
	t.Parallel()
	doc, err := ParseDocument([]byte(`{"swagger": "2.0", "host": "slack.com", "basePath": "/api",
	  "paths": {"/chat.postMessage": {"post": {"consumes": ["application/json"],
	    "parameters": [{"name": "channel", "in": "formData", "type": "string", "required": true}],
	    "responses": {"200": {"description": "ok", "schema": {"type": "object", "properties": {"ts": {"type": "string"}, "m": {"items": [{"type": "string"}]}}}}}}}}}`))
	require.NoError(t, err)
	require.NotNil(t, doc.Paths.Find("/chat.postMessage"))
	p, diags := spec.ParseProvider("slack.yaml", []byte(`accord: provider/v1
name: slack
base_url: https://slack.com/api
auth: {kind: bearer}
objects:
  message:
    id: ts
    fields:
      ts: {type: string}
      channel: {type: string}
    endpoints:
      create: {method: POST, path: /chat.postMessage, id_path: ts}
`))
	require.Empty(t, diags, diags.Error())
	require.Equal(t, "slack.yaml:10:16: message.channel: the vendor requires it on create; mark it required: true so contracts map it or give it a default",
		Check(p, doc).Error())
}

func TestParseDocumentRejectsOtherFiles(t *testing.T) {
	t.Parallel()
	_, err := ParseDocument([]byte("accord: provider/v1\n"))
	require.ErrorContains(t, err, "not an openapi document")
}

// A write sent as JSON to a vendor that reads forms (or the other way) is
// drift too: Stripe's document takes application/x-www-form-urlencoded.
func TestCheckReportsBodyEncodingDrift(t *testing.T) {
	t.Parallel()
	p, diags := spec.LoadProvider(filepath.Join("..", "..", "packs", "catalog", "providers", "stripe.yaml"))
	require.Empty(t, diags, diags.Error())
	doc, err := LoadDocument(filepath.Join("testdata", "vendor", "stripe.json"))
	require.NoError(t, err)
	require.Empty(t, Check(p, doc), "the catalog's form-encoded Stripe writes match the document")

	p.Objects["customer"].Endpoints.Update.Encoding = spec.EncodingJSON
	got := Check(p, doc)
	require.Len(t, got, 1)
	require.Contains(t, got[0].Message, "customer.update: sends json, but the vendor takes application/x-www-form-urlencoded")
}
