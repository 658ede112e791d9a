package cli

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/web/api"
)

func init() {
	registerDemo("crm-billing", func() demoScenario { return &crmBillingDemo{} })
}

// The pack lists the CRM every 5 minutes and reconciles nightly: far too
// slow to watch, so the demo asks for both itself.
const (
	crmBillingSyncEvery      = 3 * time.Second
	crmBillingReconcileEvery = time.Minute
)

// crmBillingDemo runs the two-way crm-billing pack: billing customers and
// subscriptions become CRM accounts (name, MRR), and the owner and segment
// sales set in the CRM reach the billing customer.
type crmBillingDemo struct {
	billing *sim.Billing
	crm     *sim.CRM
	inst    string

	mu        sync.Mutex
	customers []string
	subs      map[string]string // customer → its subscription
	// owners is the owner sales last set in the CRM, by billing customer:
	// what "carried to billing" compares the billing customer with.
	owners map[string]string
	drifts int // billing-owned fields sales edited in the CRM
}

func (c *crmBillingDemo) partners(demoOptions) []demoPartner {
	// The CRM keeps HubSpot's budget (20 requests a second, as the pack's
	// manifest says), so Accord's limiter is what paces it.
	c.billing = sim.NewBilling(&sim.Config{Token: demoSimToken})
	c.crm = sim.NewCRM(&sim.Config{Token: demoSimToken})
	c.subs, c.owners = map[string]string{}, map[string]string{}
	return []demoPartner{{"BILLING_URL", c.billing}, {"CRM_URL", c.crm}}
}

// install: two API-key connections and the contract; billing's webhooks
// go to Accord.
func (c *crmBillingDemo) install(ctx context.Context, d *demo) error {
	inst, conns, err := d.admin.InstallContract(ctx, d.tenant, "crm-billing", map[string]api.ConnectionInput{
		"billing-app": {APIKey: demoSimToken, WebhookSecret: demoWebhookSecret},
		"crm-app":     {APIKey: demoSimToken},
	})
	if err != nil {
		return err
	}
	c.inst = inst.ID
	c.billing.Subscribe(d.base+conns["billing-app"].HookPath, demoWebhookSecret)
	return nil
}

func (c *crmBillingDemo) faults(rate float64) {
	// Errors are impossible here: the kinds are constants.
	_ = c.crm.Random(rate, sim.FaultRateLimit, sim.FaultServerError)
	_ = c.billing.Random(rate, sim.FaultServerError)
}

func (c *crmBillingDemo) welcome(d *demo) {
	base, o, t := d.base, d.o, d.tenant
	inst := fmt.Sprintf("%s/api/v1/tenants/%s/installations/%s", base, t, c.inst)
	fmt.Fprintf(d.out, `Accord demo is running the crm-billing pack (database %s).

  Accord            %s
  Health page       %s/ui/t/%s/   (sign in with the token %s)
  Metrics           %s/metrics
  Sync runs         %s/sync
  Reconciliation    %s/reconcile
  Record errors     %s/api/v1/tenants/%s/record-errors
                    (send Authorization: Bearer %s)
  Billing sim       %s/v1/customers                 (token %s)
  CRM sim           %s/crm/v3/objects/companies     (token %s)

Every %.1fs something changes. Billing creates customers, renames them and changes
their subscriptions; its webhooks reach Accord at once, which keeps one CRM account
per customer with its name and MRR. Sales set an account's owner and segment in the
CRM; Accord lists the CRM and writes them to the billing customer's metadata. The pack
lists the CRM every 5 minutes, so the demo asks for a sync every %s (POST …/sync)
and a reconciliation every %s (POST …/reconcile). Now and then sales edit an
account's name, which billing owns: Accord reports it as drift (a record error of
class drift) instead of copying it. %.0f%% of partner calls get a fault (429, 5xx).

In the metrics: accord_echo_suppressed_total (Accord's own writes coming back,
recognised and not written again), accord_sync_drift_total and
accord_reconciliation_diffs_total.

Try:
  curl -H 'Authorization: Bearer %s' %s/sync
  curl -H 'Authorization: Bearer %s' %s/reconcile
  curl -H 'Authorization: Bearer %s' %s/api/v1/tenants/%s/record-errors
  curl -H 'Authorization: Bearer %s' '%s/v1/customers?limit=3'

Ctrl-C stops everything.
`, o.db, base, base, t, demoAdminToken, base, inst, inst, base, t, demoAdminToken,
		d.urls["BILLING_URL"], demoSimToken, d.urls["CRM_URL"], demoSimToken,
		1/o.rate, crmBillingSyncEvery, crmBillingReconcileEvery, o.faultRate*100,
		demoAdminToken, inst, demoAdminToken, inst, demoAdminToken, base, t, demoSimToken, d.urls["BILLING_URL"])
}

var (
	demoCompanies = []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell", "Soylent", "Cyberdyne"}
	demoOwners    = []string{"ana", "ben", "chloé", "dev"}
	demoSegments  = []string{"smb", "mid-market", "enterprise"}
)

// traffic makes one change every 1/rate seconds, and asks Accord for a
// sync and a reconciliation on the demo's own schedule, until ctx ends.
func (c *crmBillingDemo) traffic(ctx context.Context, d *demo) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { c.every(ctx, crmBillingSyncEvery, func() { _, _ = d.admin.SyncNow(ctx, d.tenant, c.inst) }) })
	wg.Go(func() {
		c.every(ctx, crmBillingReconcileEvery, func() { _ = d.admin.Reconcile(ctx, d.tenant, c.inst) })
	})

	rng := rand.New(rand.NewPCG(3, 4))
	c.every(ctx, time.Duration(float64(time.Second)/d.o.rate), func() { c.change(rng) })
}

func (c *crmBillingDemo) every(ctx context.Context, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// change makes one random change as billing or sales would. Errors are
// ignored: a partner call the simulator refuses is simply not made.
func (c *crmBillingDemo) change(rng *rand.Rand) {
	c.mu.Lock()
	n := len(c.customers)
	c.mu.Unlock()
	r := rng.Float64()
	switch {
	case n < 3 || r < 0.25: // a new customer with a subscription
		cus := c.billing.CreateCustomer(fmt.Sprintf("%s %d", demoCompanies[rng.IntN(len(demoCompanies))], n+1), "")
		sub, err := c.billing.CreateSubscription(cus.ID, demoItems(rng)...)
		c.mu.Lock()
		c.customers = append(c.customers, cus.ID)
		if err == nil {
			c.subs[cus.ID] = sub.ID
		}
		c.mu.Unlock()
	case r < 0.40: // billing renames a customer
		id := c.pick(rng)
		_, _ = c.billing.RenameCustomer(id, fmt.Sprintf("%s %s Ltd", demoCompanies[rng.IntN(len(demoCompanies))], id))
	case r < 0.60: // a plan change
		c.mu.Lock()
		sub := c.subs[c.customers[rng.IntN(len(c.customers))]]
		c.mu.Unlock()
		if sub != "" {
			_, _ = c.billing.SetItems(sub, demoItems(rng)...)
		}
	case r < 0.95: // sales set an account's owner and segment
		id := c.pick(rng)
		if acc, ok := c.account(id); ok {
			owner := demoOwners[rng.IntN(len(demoOwners))]
			if _, err := c.crm.UpdateCompany(acc, map[string]string{"owner": owner, "segment": demoSegments[rng.IntN(len(demoSegments))]}); err == nil {
				c.mu.Lock()
				c.owners[id] = owner
				c.mu.Unlock()
			}
		}
	default: // sales type over a billing-owned field: drift
		if acc, ok := c.account(c.pick(rng)); ok {
			if _, err := c.crm.UpdateCompany(acc, map[string]string{"name": "Renamed by sales"}); err == nil {
				c.mu.Lock()
				c.drifts++
				c.mu.Unlock()
			}
		}
	}
}

func (c *crmBillingDemo) pick(rng *rand.Rand) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.customers[rng.IntN(len(c.customers))]
}

// account is the CRM account Accord made for a billing customer, if any
// yet.
func (c *crmBillingDemo) account(customer string) (string, bool) {
	for _, co := range c.crm.Companies() {
		if co.Properties["billing_customer_id"] == customer {
			return co.ID, true
		}
	}
	return "", false
}

// demoItems is a plan: a monthly seat price times a few seats, sometimes
// with a yearly add-on.
func demoItems(rng *rand.Rand) []sim.BillingItem {
	items := []sim.BillingItem{sim.NewBillingItem(int64(10+rng.IntN(5)*10)*100, int64(1+rng.IntN(20)), "month")}
	if rng.IntN(3) == 0 {
		items = append(items, sim.NewBillingItem(120000, 1, "year"))
	}
	return items
}

func (c *crmBillingDemo) progress(ctx context.Context, d *demo) string {
	c.mu.Lock()
	customers, set, edits := len(c.customers), len(c.owners), c.drifts
	owners := make(map[string]string, len(c.owners))
	for k, v := range c.owners {
		owners[k] = v
	}
	c.mu.Unlock()
	carried := 0
	for id, owner := range owners {
		if cus, err := c.billing.Customer(id); err == nil && cus.Metadata["owner"] == owner {
			carried++
		}
	}
	drift, open := "?", "?"
	if list, ok := d.openRecordErrors(ctx); ok {
		n := 0
		for _, re := range list {
			if re.Class == engine.ClassDrift {
				n++
			}
		}
		drift, open = fmt.Sprint(n), fmt.Sprint(len(list))
	}
	return fmt.Sprintf("customers: %d, accounts: %d, owners set in CRM: %d, owners carried to billing: %d, names edited in CRM: %d, drift errors: %s, in flight: %s, record errors open: %s",
		customers, c.crm.Count(), set, carried, edits, drift, d.inFlight(ctx), open)
}
