package ui_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// The wizard's test sync, on the shipped crm-billing pack: before the
// integration is enabled, one billing customer the admin names is read
// and synced to the CRM for real, once however often it is clicked.
func TestBrowserWizardTestSync(t *testing.T) {
	backendsUnderTest(t, func(t *testing.T, backend string) {
		ctx := tab(t)
		d := startDemo(t, backend)
		shot := func(name string) { screenshot(t, ctx, "wizard-sync-"+backend+"-"+name) }
		signIn(t, ctx, &bundle{url: d.url}, adminToken)
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(d.url+"/ui/t/acme/setup/crm-billing"), chromedp.WaitVisible(chromedp.ID("next"))))
		submit(t, ctx, "#next")
		for _, c := range []struct{ provider, key string }{{"billing-app", billingKey}, {"crm-app", crmKey}} {
			require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("key-"+c.provider), c.key)))
			if c.provider == "billing-app" {
				require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("secret-billing-app"), hookSecret)))
			}
			submit(t, ctx, `button[value="connect:`+c.provider+`"]`)
			require.Contains(t, mainText(t, ctx), "is connected.")
		}
		submit(t, ctx, "#next")
		submit(t, ctx, "#next")
		submit(t, ctx, "#run-tests")
		submit(t, ctx, "#next")

		cus := d.billing.CreateCustomer("Initech", "billing@initech.example")
		require.NoError(t, chromedp.Do(ctx,
			chromedp.SetValue(chromedp.ID("sync-trigger"), "customer"),
			chromedp.SendKeys(chromedp.ID("sync-object"), cus.ID)))
		submit(t, ctx, "#test-sync")
		text := mainText(t, ctx)
		require.Contains(t, text, "Test sync applied", text)
		require.Contains(t, text, `"name": "Initech"`, "the record as the partner has it")
		require.Len(t, d.crm.Companies(), 1)
		company := d.crm.Companies()[0]
		require.Contains(t, text, "crm-app.account "+company.ID)
		shot("5-synced")

		submit(t, ctx, "#test-sync")
		require.Contains(t, mainText(t, ctx), "Test sync")
		require.Len(t, d.crm.Companies(), 1, "a second test sync of the customer makes no second account")

		// Unknown records are refused beside the field.
		require.NoError(t, chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("sync-object"), "cus_missing")))
		submit(t, ctx, "#test-sync")
		require.Contains(t, mainText(t, ctx), "reading billing-app customer cus_missing")
		shot("5-sync-refused")

		// Nothing is live before confirm: the installation is being set up.
		insts, err := d.app.Store.ListInstallations(t.Context(), "acme")
		require.NoError(t, err)
		require.Len(t, insts, 1)
		require.Equal(t, store.InstallationSetup, insts[0].State)
		submit(t, ctx, "#next")
		submit(t, ctx, "#enable")
		require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("installed"))))
		insts, err = d.app.Store.ListInstallations(t.Context(), "acme")
		require.NoError(t, err)
		require.Len(t, insts, 1, "the installation set up is the one enabled")
		require.Equal(t, store.InstallationActive, insts[0].State)
		shot("enabled")
	})
}
