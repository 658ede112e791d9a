package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

const packsDir = "../../packs"

func TestProvidersListShowsCatalogAndPacks(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "providers", "list", "--packs", packsDir)
	require.Equal(t, 0, code, errOut)
	require.Empty(t, errOut)
	require.Regexp(t, `(?m)^NAME +TITLE +AUTH +OBJECTS +EVENTS +RATE LIMIT$`, out)
	require.Regexp(t, `(?m)^hubspot +HubSpot +oauth2_code +company, contact, crm_event, deal, ticket +8 +9/s \(burst 10\)$`, out)
	require.Regexp(t, `(?m)^stripe +Stripe +api_key +customer, subscription +9 +100/s \(burst 100\)$`, out)
	for _, name := range []string{"pagerduty", "pagerduty-events", "slack", "github", "zendesk", "intercom", "shopify", "helpdesk"} {
		require.Regexp(t, `(?m)^`+name+` `, out)
	}
}

func TestProvidersShowBatchedWebhooks(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "providers", "show", "--packs", packsDir, "hubspot")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Webhooks: signed with the hubspot scheme; event type at subscriptionType, object id at objectId; up to 100 events per body, in the array at .")
	require.Contains(t, out, "deal.propertyChange")
}

func TestProvidersShow(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "providers", "show", "--packs", packsDir, "github")
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{
		"GitHub (github)",
		"api version: 2022-11-28 (sent in X-GitHub-Api-Version); deprecation announced in Deprecation",
		"auth:        bearer",
		"rate limit:  1.3/s (burst 80)",
		"issues:write                   Open, edit, label and close issues in the repositories you choose",
		"Webhooks: signed with the github scheme; event type at header:X-GitHub-Event, object id at issue.id",
		"403 with body rate limit",
		"create   POST   /repos/{owner}/{repo}/issues",
		"state                          string (one of open, closed)",
	} {
		require.Contains(t, out, want)
	}
}

func TestProvidersShowUnknown(t *testing.T) {
	t.Parallel()
	code, _, errOut := run(t, "providers", "show", "--packs", packsDir, "hubspt")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `no provider "hubspt" in ../../packs; there are: billing, billing-app, chat, crm, crm-app, github, helpdesk, hubspot,`)

	code, _, errOut = run(t, "providers", "list", "--packs", filepath.Join(t.TempDir(), "nope"))
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "point --packs at the packs directory")
}

func TestContractCheck(t *testing.T) {
	t.Parallel()
	fixture := "../catalogcheck/testdata/zendesk-tickets.yaml"
	code, out, errOut := run(t, "contract", "check", "--openapi", fixture, packsDir+"/catalog/providers/zendesk.yaml")
	require.Equal(t, 0, code, errOut+out)
	require.Equal(t, "ok: no drift in 1 manifest against "+fixture+"\n", out)

	drifted := "../catalogcheck/testdata/drift/zendesk_drifted.yaml"
	code, out, errOut = run(t, "contract", "check", "--openapi", fixture, drifted)
	require.Equal(t, 1, code)
	require.Contains(t, out, drifted+":19:24: ticket.update: the vendor's /api/v2/tickets/{ticket_id} takes GET, PUT, not PATCH\n")
	require.Equal(t, "9 differences from "+fixture+"\n", errOut)

	code, _, errOut = run(t, "contract", "check", packsDir+"/catalog/providers/zendesk.yaml")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "name the vendor's document")
}

func TestProvidersListReadsAccordPacks(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) (string, bool) {
		if k == "ACCORD_PACKS" {
			return packsDir, true
		}
		return "", false
	}}
	require.Equal(t, 0, Run(context.Background(), []string{"providers", "list"}, env), errb.String())
	require.Contains(t, out.String(), "shopify")
}

// An author sees what a tenant is asked for when connecting, and how
// bodies are sent.
func TestProvidersShowSettingsAndEncoding(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "providers", "show", "--packs", packsDir, "pagerduty")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "setting:     from_email (email): Email of a PagerDuty user")
	code, out, errOut = run(t, "providers", "show", "--packs", packsDir, "stripe")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "encoding:    form (request bodies)")
}
