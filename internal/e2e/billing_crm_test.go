package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/app"
	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/web/api"
)

const (
	billingToken  = "billing-token"
	crmToken      = "crm-token"
	billingSecret = "whsec_e2e-billing-signing-secret"
)

// billingEnv is Accord running the shipped billing-to-crm pack between a
// Stripe-shaped billing service and a HubSpot-shaped CRM.
type billingEnv struct {
	app          *app.App
	billing      *sim.Billing
	crm          *sim.CRM
	crmCalls     *requestLog
	billingCalls *requestLog
	// conns are the installation's connections by provider, inst its id.
	conns map[string]api.Connection
	inst  string
}

func setupBilling(t *testing.T, b backend, searchLag time.Duration) *billingEnv {
	t.Helper()
	return setupBillingWith(t, b, searchLag, billingOpts{packs: packsDir(t), subscribe: true})
}

// billingOpts vary the billing-to-CRM set-up.
type billingOpts struct {
	// packs is the packs directory Accord runs.
	packs string
	// subscribe sends the billing service's webhooks to Accord.
	subscribe bool
	// seed runs on the billing service before Accord starts.
	seed func(b *sim.Billing)
	// billingNow is the billing service's clock (default time.Now).
	billingNow func() time.Time
	// contract is the contract installed (default billing-to-crm).
	contract string
}

func setupBillingWith(t *testing.T, b backend, searchLag time.Duration, o billingOpts) *billingEnv {
	t.Helper()
	db, key := database(t, b)
	e := &billingEnv{}
	e.billing = sim.NewBilling(&sim.Config{Token: billingToken, DeliveryBackoff: 50 * time.Millisecond, Now: o.billingNow})
	if o.seed != nil {
		o.seed(e.billing)
	}
	t.Cleanup(e.billing.Stop)
	e.billingCalls = &requestLog{}
	billingSrv := httptest.NewServer(e.billingCalls.wrap(e.billing.Handler()))
	t.Cleanup(billingSrv.Close)
	billingURL := billingSrv.URL
	// HubSpot's budget: 20 requests a second per token; its search index
	// lags behind writes.
	e.crm = sim.NewCRM(&sim.Config{Token: crmToken, RateLimit: 20, RateBurst: 20, SearchLag: searchLag})
	t.Cleanup(e.crm.Stop)
	e.crmCalls = &requestLog{}
	crmSrv := httptest.NewServer(e.crmCalls.wrap(e.crm.Handler()))
	t.Cleanup(crmSrv.Close)

	partners := map[string]string{"BILLING_URL": billingURL, "CRM_URL": crmSrv.URL}
	a := startAppWith(t, o.packs, db, key, partners, nil)
	e.app = a
	url := "http://" + a.Addr()
	c := &api.Client{BaseURL: url, Token: adminToken}
	_, err := c.CreateTenant(t.Context(), tenantID, "Acme Corp")
	require.NoError(t, err)
	contract, billingName, crmName := "billing-to-crm", "billing", "crm"
	if o.contract != "" {
		contract, billingName, crmName = o.contract, "billing-app", "crm-app"
	}
	inst, conns, err := c.InstallContract(t.Context(), tenantID, contract, map[string]api.ConnectionInput{
		billingName: {APIKey: billingToken, WebhookSecret: billingSecret},
		crmName:     {APIKey: crmToken},
	})
	require.NoError(t, err)
	// Tests name the connections by role, whatever the pack calls them.
	e.conns, e.inst = map[string]api.Connection{"billing": conns[billingName], "crm": conns[crmName]}, inst.ID
	if o.subscribe {
		e.billing.Subscribe(url+"/hooks/"+conns[billingName].ID, billingSecret)
	}
	return e
}

// TestBillingToCRM runs the shipped billing-to-crm pack: customer and
// subscription events of one customer write one company (found through the
// CRM's lagging search, or the link table while the search cannot see it
// yet), with the customer's newest name (fetched by enrichment for
// subscription events) and the MRR over every item. Changes come several
// to a second, so their Unix-second versions tie and apply in receipt
// order. Nothing is duplicated, no change is lost, and every event has a
// final outcome.
func TestBillingToCRM(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := setupBilling(t, b, 2*time.Second)
			const customers = 12
			ids := make([]string, 0, customers)
			events := 0
			for i := range customers {
				cus := e.billing.CreateCustomer(fmt.Sprintf("Customer %d", i), "")
				sub, err := e.billing.CreateSubscription(cus.ID, sim.NewBillingItem(1000, int64(i+1), "month"), sim.NewBillingItem(24000, 1, "year"))
				require.NoError(t, err)
				_, err = e.billing.RenameCustomer(cus.ID, fmt.Sprintf("Customer %d Inc", i))
				require.NoError(t, err)
				_, err = e.billing.SetItems(sub.ID, sim.NewBillingItem(1000, int64(i+2), "month"), sim.NewBillingItem(24000, 1, "year"), sim.NewBillingItem(500, 3, "month"))
				require.NoError(t, err)
				events += 4
				ids = append(ids, cus.ID)
			}
			ctx, cancel := context.WithTimeout(t.Context(), waitFor)
			defer cancel()
			require.NoError(t, e.billing.WaitSent(ctx, events))

			// Every accepted event reaches a final outcome a user can see.
			require.Eventually(t, func() bool { return eventOutcomes(t, e.app.Registry) >= float64(events) }, waitFor, 20*time.Millisecond,
				"events with a final outcome: %v of %d", eventOutcomes(t, e.app.Registry), events)
			require.Equal(t, float64(events), eventOutcomes(t, e.app.Registry), "one final outcome per event")
			require.Zero(t, counter(t, e.app.Registry, "accord_event_outcomes_total", map[string]string{"outcome": "failed"}))

			companies := e.crm.Companies()
			require.Equal(t, customers, len(companies), "one company per billing customer, however its events interleave")
			byCustomer := map[string]sim.Company{}
			for _, c := range companies {
				byCustomer[c.Properties["billing_customer_id"]] = c
			}
			for i, id := range ids {
				c, ok := byCustomer[id]
				require.True(t, ok, "company for %s", id)
				require.Equal(t, fmt.Sprintf("Customer %d Inc", i), c.Properties["name"], "the newest name")
				mrr, err := strconv.ParseFloat(c.Properties["mrr"], 64)
				require.NoError(t, err)
				require.InDelta(t, e.billing.MRR(id), mrr, 1e-9, "MRR over every item of %s", id)
			}
			list, err := (&api.Client{BaseURL: "http://" + e.app.Addr(), Token: adminToken}).ListRecordErrors(t.Context(), tenantID, "")
			require.NoError(t, err)
			require.Empty(t, list)
			searches := 0
			for _, c := range e.crmCalls.all() {
				if c.Path == "/crm/v3/objects/companies/search" {
					searches++
				}
			}
			t.Logf("%d events, %d companies, %d CRM calls (%d searches)", events, len(companies), len(e.crmCalls.all()), searches)
		})
	}
}

func eventOutcomes(t *testing.T, g prometheus.Gatherer) float64 {
	return counter(t, g, "accord_event_outcomes_total", nil)
}

// TestBillingToCRMFindsExistingCompanies: a company the CRM already holds
// for a billing customer is found through the search and updated, never
// duplicated; two of them for one customer are a record error naming both,
// never a guess.
func TestBillingToCRMFindsExistingCompanies(t *testing.T) {
	t.Parallel()
	e := setupBilling(t, "sqlite", 0)
	c := &api.Client{BaseURL: "http://" + e.app.Addr(), Token: adminToken}
	cus := e.billing.CreateCustomer("Existing", "")
	existing := e.crm.CreateCompany(map[string]string{"name": "Existing (typed by sales)", "billing_customer_id": cus.ID})
	twin := e.billing.CreateCustomer("Twin", "")
	a := e.crm.CreateCompany(map[string]string{"name": "Twin A", "billing_customer_id": twin.ID})
	b := e.crm.CreateCompany(map[string]string{"name": "Twin B", "billing_customer_id": twin.ID})

	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	require.NoError(t, e.billing.WaitSent(ctx, 2))
	require.Eventually(t, func() bool { return eventOutcomes(t, e.app.Registry) >= 2 }, waitFor, 20*time.Millisecond)

	require.Equal(t, 3, e.crm.Count(), "nothing created: both customers have companies")
	for _, co := range e.crm.Companies() {
		if co.ID == existing.ID {
			require.Equal(t, "Existing", co.Properties["name"], "the found company is updated")
		}
	}
	list, err := c.ListRecordErrors(t.Context(), tenantID, "")
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, engine.ClassAmbiguousMatch, list[0].Class)
	require.Contains(t, list[0].Message, a.ID)
	require.Contains(t, list[0].Message, b.ID)
	require.Contains(t, list[0].Remediation, "never guesses")
}

// TestBillingToCRMEnrichmentFailureNamesTheCall: a related object the
// source refuses to give is a record error naming the enrichment call, its
// status and the partner's message; a throttled one waits and applies.
func TestBillingToCRMEnrichmentFailureNamesTheCall(t *testing.T) {
	t.Parallel()
	e := setupBilling(t, "sqlite", 0)
	c := &api.Client{BaseURL: "http://" + e.app.Addr(), Token: adminToken}
	cus := e.billing.CreateCustomer("Acme", "")
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	require.NoError(t, e.billing.WaitSent(ctx, 1))
	require.Eventually(t, func() bool { return e.crm.Count() == 1 }, waitFor, 10*time.Millisecond)

	require.NoError(t, e.billing.Inject(sim.Fault{Kind: sim.FaultRateLimit, RetryAfter: time.Second, Count: 1}))
	_, err := e.billing.CreateSubscription(cus.ID, sim.NewBillingItem(1000, 2, "month"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.crm.Companies()[0].Properties["mrr"] == "20" }, waitFor, 10*time.Millisecond,
		"a throttled enrichment waits for Retry-After, then applies")

	require.NoError(t, e.billing.Inject(sim.Fault{Kind: sim.FaultUnprocessable, Message: "No such customer", Count: 1}))
	_, err = e.billing.CreateSubscription(cus.ID, sim.NewBillingItem(1000, 3, "month"))
	require.NoError(t, err)
	var list []api.RecordError
	require.Eventually(t, func() bool {
		list, err = c.ListRecordErrors(t.Context(), tenantID, "")
		return err == nil && len(list) > 0
	}, waitFor, 20*time.Millisecond)
	require.Len(t, list, 1)
	require.Equal(t, engine.ClassValidation, list[0].Class)
	require.Equal(t, "enrichment billing.customer (GET /v1/customers/{id}) answered 422: No such customer", list[0].Message)
	require.Contains(t, list[0].Remediation, "rejected Accord's lookup request, not the record")
}
