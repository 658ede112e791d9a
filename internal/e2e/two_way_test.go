package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/syncer"
	"github.com/accordhq/accord/internal/web/api"
)

// syncAll asks for every schedule trigger's run now and waits until each
// has completed a run after the request.
func (e *billingEnv) syncAll(t *testing.T) {
	t.Helper()
	c := &api.Client{BaseURL: "http://" + e.app.Addr(), Token: adminToken}
	st, err := c.GetSync(t.Context(), tenantID, e.inst)
	require.NoError(t, err)
	before := map[string]int64{}
	for _, r := range st.Runs {
		before[r.Trigger] = r.CompletedRuns
	}
	queued, err := c.SyncNow(t.Context(), tenantID, e.inst)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, err := c.GetSync(t.Context(), tenantID, e.inst)
		if err != nil {
			return false
		}
		done := 0
		for _, r := range st.Runs {
			if r.CompletedRuns > before[r.Trigger] && !r.Running {
				done++
			}
		}
		return done == len(queued.Queued)
	}, waitFor, 20*time.Millisecond, "every sync run completes")
	e.quiet(t)
}

// quiet waits until every event stored through either connection has a
// final outcome.
func (e *billingEnv) quiet(t *testing.T) {
	t.Helper()
	waitDrained(t, e, e.conns["billing"].ID, e.conns["crm"].ID)
}

// waitPlannedRuns waits for the first run of each schedule trigger, which
// the planner starts for a new installation.
func (e *billingEnv) waitPlannedRuns(t *testing.T, triggers int) {
	t.Helper()
	c := &api.Client{BaseURL: "http://" + e.app.Addr(), Token: adminToken}
	require.Eventually(t, func() bool {
		st, err := c.GetSync(t.Context(), tenantID, e.inst)
		if err != nil || len(st.Runs) != triggers {
			return false
		}
		for _, r := range st.Runs {
			if r.CompletedRuns < 1 {
				return false
			}
		}
		return true
	}, waitFor, 20*time.Millisecond)
}

func (e *billingEnv) billingWrites() int {
	n := 0
	for _, c := range e.billingCalls.all() {
		if c.Method == http.MethodPost && strings.HasPrefix(c.Path, "/v1/customers/") && c.Status < 300 {
			n++
		}
	}
	return n
}

func (e *billingEnv) account(t *testing.T, customerID string) sim.Company {
	t.Helper()
	for _, co := range e.crm.Companies() {
		if co.Properties["billing_customer_id"] == customerID {
			return co
		}
	}
	t.Fatalf("no CRM account for %s", customerID)
	return sim.Company{}
}

// TestCRMBillingTwoWay runs the shipped crm-billing pack both ways: billing
// customers make CRM accounts (webhooks); owner and segment set in the CRM
// reach the billing customers (a CRM sync, the ids paired through the
// links); Accord's own writes coming back are recognised and never bounce
// (no write is made that the other side already holds); a field changed on
// the side that does not own it is reported as drift, not copied.
func TestCRMBillingTwoWay(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := setupBillingWith(t, b, 0, billingOpts{packs: packsDir(t), subscribe: true, contract: "crm-billing"})
			e.waitPlannedRuns(t, 2)
			const customers = 5
			ids := make([]string, customers)
			for i := range customers {
				ids[i] = e.billing.CreateCustomer(fmt.Sprintf("Customer %d", i), "").ID
			}
			require.Eventually(t, func() bool { return e.crm.Count() == customers }, waitFor, 20*time.Millisecond)
			e.quiet(t)

			// Sales set owners in the CRM; the next CRM pass carries them to billing.
			for i, owner := range map[int]string{0: "ana", 1: "ben"} {
				_, err := e.crm.UpdateCompany(e.account(t, ids[i]).ID, map[string]string{"owner": owner, "segment": "enterprise"})
				require.NoError(t, err)
			}
			crmWrites := e.crmWrites(http.MethodPost) + e.crmWrites(http.MethodPatch)
			e.syncAll(t)
			for i, owner := range map[int]string{0: "ana", 1: "ben"} {
				cus, err := e.billing.Customer(ids[i])
				require.NoError(t, err)
				require.Equal(t, owner, cus.Metadata["owner"])
				require.Equal(t, "enterprise", cus.Metadata["segment"])
			}
			require.Equal(t, customers, e.crm.Count(), "no second account: the CRM change found its customer through the links")
			require.Equal(t, crmWrites, e.crmWrites(http.MethodPost)+e.crmWrites(http.MethodPatch),
				"billing's webhooks for Accord's own writes came back and were recognised: nothing written to the CRM")
			require.Positive(t, counter(t, e.app.Registry, "accord_echo_suppressed_total", map[string]string{"provider": "crm-app"}))

			// Nothing changed since: a pass over both sides writes nothing.
			billingWrites := e.billingWrites()
			e.syncAll(t)
			require.Equal(t, crmWrites, e.crmWrites(http.MethodPost)+e.crmWrites(http.MethodPatch), "no echo loop into the CRM")
			require.Equal(t, billingWrites, e.billingWrites(), "no echo loop into billing")

			// Billing renames a customer whose account two actions write
			// (account and account_mrr): the CRM follows, and the CRM pass
			// that lists Accord's own write is not drift, though the
			// older account_mrr link still holds the old name.
			_, err := e.billing.CreateSubscription(ids[3], sim.NewBillingItem(1000, 1, "month"))
			require.NoError(t, err)
			require.Eventually(t, func() bool { return e.account(t, ids[3]).Properties["mrr"] == "10" }, waitFor, 20*time.Millisecond)
			e.quiet(t)
			billingWrites = e.billingWrites()
			_, err = e.billing.RenameCustomer(ids[3], "Customer 3 Renamed")
			require.NoError(t, err)
			require.Eventually(t, func() bool { return e.account(t, ids[3]).Properties["name"] == "Customer 3 Renamed" }, waitFor, 20*time.Millisecond)
			e.quiet(t)
			e.syncAll(t)
			c := &api.Client{BaseURL: "http://" + e.app.Addr(), Token: adminToken}
			errs, err := c.ListRecordErrors(t.Context(), tenantID, "")
			require.NoError(t, err)
			require.Empty(t, errs, "Accord's own write listed back is not drift")
			require.Equal(t, billingWrites, e.billingWrites(), "a billing-owned change writes nothing back to billing")

			// Someone edits the account's name in the CRM, which billing owns:
			// reported as drift, not copied to billing.
			_, err = e.crm.UpdateCompany(e.account(t, ids[2]).ID, map[string]string{"name": "Typed by sales"})
			require.NoError(t, err)
			e.syncAll(t)
			errs, err = c.ListRecordErrors(t.Context(), tenantID, "")
			require.NoError(t, err)
			require.Len(t, errs, 1)
			require.Equal(t, engine.ClassDrift, errs[0].Class)
			require.Contains(t, errs[0].Message, `name is "Typed by sales", Accord wrote "Customer 2"`)
			require.Contains(t, errs[0].Remediation, "on_drift: revert")
			cus, err := e.billing.Customer(ids[2])
			require.NoError(t, err)
			require.Equal(t, "Customer 2", cus.Name, "the non-owner's change is not copied to the owner")
			require.Equal(t, billingWrites, e.billingWrites())
			require.EqualValues(t, 1, counter(t, e.app.Registry, "accord_sync_drift_total", map[string]string{"field": "name", "action": "reported"}))
		})
	}
}

// TestCRMBillingRevertsDrift: with on_drift: revert, a billing-owned field
// edited in the CRM is written back to the owner's value (by the
// settlement job, within its interval), and no record error is filed.
func TestCRMBillingRevertsDrift(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dst := filepath.Join(dir, "crm-billing")
	require.NoError(t, os.CopyFS(dst, os.DirFS(filepath.Join(packsDir(t), "crm-billing"))))
	file := filepath.Join(dst, "contracts", "crm-billing.yaml")
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Contains(t, string(raw), "on_drift: report\n")
	require.NoError(t, os.WriteFile(file, []byte(strings.Replace(string(raw), "on_drift: report\n", "on_drift: revert\n", 1)), 0o600))

	e := setupBillingWith(t, "sqlite", 0, billingOpts{packs: dir, subscribe: true, contract: "crm-billing"})
	e.waitPlannedRuns(t, 2)
	id := e.billing.CreateCustomer("Acme", "").ID
	require.Eventually(t, func() bool { return e.crm.Count() == 1 }, waitFor, 20*time.Millisecond)
	e.quiet(t)
	_, err = e.crm.UpdateCompany(e.account(t, id).ID, map[string]string{"name": "Typed by sales"})
	require.NoError(t, err)
	e.syncAll(t)
	require.Eventually(t, func() bool { return e.account(t, id).Properties["name"] == "Acme" }, waitFor, 50*time.Millisecond,
		"the owner's value is written back")
	c := &api.Client{BaseURL: "http://" + e.app.Addr(), Token: adminToken}
	errs, err := c.ListRecordErrors(t.Context(), tenantID, "")
	require.NoError(t, err)
	require.Empty(t, errs)
	require.EqualValues(t, 1, counter(t, e.app.Registry, "accord_sync_drift_total", map[string]string{"field": "name", "action": "reverted"}))
}

// TestCRMBillingReconciliation: a full compare of both sides reports
// every object, which are paired through the links, and each field that
// holds another value than Accord wrote, with samples; nothing is written
// in report mode.
func TestCRMBillingReconciliation(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := setupBillingWith(t, b, 0, billingOpts{packs: packsDir(t), subscribe: true, contract: "crm-billing"})
			e.waitPlannedRuns(t, 2)
			ids := make([]string, 4)
			for i := range ids {
				ids[i] = e.billing.CreateCustomer(fmt.Sprintf("Customer %d", i), "").ID
			}
			require.Eventually(t, func() bool { return e.crm.Count() == len(ids) }, waitFor, 20*time.Millisecond)
			e.quiet(t)
			_, err := e.crm.UpdateCompany(e.account(t, ids[1]).ID, map[string]string{"name": "Typed by sales"})
			require.NoError(t, err)
			stray := e.crm.CreateCompany(map[string]string{"name": "Prospect, no billing yet"})
			crmWrites, billingWrites := e.crmWrites(http.MethodPost)+e.crmWrites(http.MethodPatch), e.billingWrites()

			c := &api.Client{BaseURL: "http://" + e.app.Addr(), Token: adminToken}
			require.NoError(t, c.Reconcile(t.Context(), tenantID, e.inst))
			var rep syncer.Report
			require.Eventually(t, func() bool {
				rep = syncer.Report{}
				return c.GetReconciliation(t.Context(), tenantID, e.inst, &rep) == nil && !rep.FinishedAt.IsZero()
			}, waitFor, 20*time.Millisecond, "the reconciliation finishes")
			require.True(t, rep.Complete)
			require.Equal(t, "report", rep.Repair)
			byObject := map[string]syncer.ObjectReport{}
			for _, o := range rep.Objects {
				byObject[o.Object] = o
			}
			cus := byObject["billing-app.customer"]
			require.Equal(t, 4, cus.Listed)
			require.Equal(t, 4, cus.Paired, "every customer has its account")
			require.Empty(t, cus.Diffs)
			acc := byObject["crm-app.account"]
			require.Equal(t, 5, acc.Listed)
			require.Equal(t, 4, acc.Paired)
			require.Equal(t, 1, acc.Unpaired, "the prospect %s is no customer's", stray.ID)
			require.Equal(t, map[string]int{"name": 1}, acc.Diffs)
			require.Equal(t, []syncer.DiffSample{{ObjectID: e.account(t, ids[1]).ID, Field: "name", Written: "Customer 1", Now: "Typed by sales"}}, acc.Samples)
			require.EqualValues(t, 1, counter(t, e.app.Registry, "accord_reconciliation_diffs_total", map[string]string{"object": "account", "field": "name"}))
			e.quiet(t)
			require.Equal(t, crmWrites, e.crmWrites(http.MethodPost)+e.crmWrites(http.MethodPatch), "report mode writes nothing")
			require.Equal(t, billingWrites, e.billingWrites())
		})
	}
}

// TestReconciliationDeleteGuard: objects a complete listing no longer
// shows are counted as missing; one of 25 is reported, and a share above
// the guard (5%) is taken as a fault, with an alert, not as deletes.
func TestReconciliationDeleteGuard(t *testing.T) {
	t.Parallel()
	e := setupBillingWith(t, "sqlite", 0, billingOpts{packs: packsDir(t), subscribe: true, contract: "crm-billing"})
	e.waitPlannedRuns(t, 2)
	ids := make([]string, 25)
	for i := range ids {
		ids[i] = e.billing.CreateCustomer(fmt.Sprintf("Customer %d", i), "").ID
	}
	waitCount(t, e.crm.Count, len(ids))
	e.quiet(t)
	reconcile := func() syncer.ObjectReport { return e.reconcile(t, "crm-app.account") }

	gone := e.account(t, ids[4]).ID
	require.NoError(t, e.crm.DeleteCompany(gone))
	acc := reconcile()
	require.True(t, acc.DeletesChecked)
	require.Equal(t, 1, acc.Missing)
	require.Equal(t, []string{gone}, acc.MissingSamples)
	require.False(t, acc.DeletesStopped, "1 of 25 is under the guard")

	for _, i := range []int{5, 6} {
		require.NoError(t, e.crm.DeleteCompany(e.account(t, ids[i]).ID))
	}
	acc = reconcile()
	require.Equal(t, 3, acc.Missing)
	require.True(t, acc.DeletesStopped, "3 of 25 is past the guard: a fault, not deletes")
	require.EqualValues(t, 1, counter(t, e.app.Registry, "accord_alerts_total", map[string]string{"class": "delete_guard"}))
}

// TestTestSyncOneRecord: the test-sync action syncs one chosen record now
// and shows its source and each target before and after: an account
// created for a customer the webhooks never announced, then an owner set
// in the CRM reaching the billing customer.
func TestTestSyncOneRecord(t *testing.T) {
	t.Parallel()
	e := setupBillingWith(t, "sqlite", 0, billingOpts{packs: packsDir(t), contract: "crm-billing"}) // no webhooks
	e.waitPlannedRuns(t, 2)
	c := &api.Client{BaseURL: "http://" + e.app.Addr(), Token: adminToken}
	cus := e.billing.CreateCustomer("Acme", "")

	var res syncer.TestResult
	require.NoError(t, c.TestSync(t.Context(), tenantID, e.inst, "customer", cus.ID, &res))
	require.Equal(t, "applied", res.Outcome)
	require.Equal(t, "Acme", res.Source["name"])
	require.Len(t, res.Actions, 1)
	acc := res.Actions[0]
	require.Equal(t, "account", acc.Action)
	require.Nil(t, acc.Before, "no account before")
	require.NotEmpty(t, acc.TargetID)
	require.Equal(t, "Acme", acc.After["name"])
	require.Equal(t, cus.ID, acc.After["billing_customer_id"])
	require.Equal(t, 1, e.crm.Count())

	_, err := e.crm.UpdateCompany(acc.TargetID, map[string]string{"owner": "ana", "segment": "smb"})
	require.NoError(t, err)
	res = syncer.TestResult{}
	require.NoError(t, c.TestSync(t.Context(), tenantID, e.inst, "account", acc.TargetID, &res))
	require.Equal(t, "applied", res.Outcome)
	require.Len(t, res.Actions, 1)
	owner := res.Actions[0]
	require.Equal(t, cus.ID, owner.TargetID, "paired through the link the other direction wrote")
	require.NotNil(t, owner.Before)
	require.Nil(t, owner.Before["metadata"], "no owner before")
	require.Equal(t, map[string]any{"owner": "ana", "segment": "smb"}, owner.After["metadata"])

	var apiErr *api.ClientError
	err = c.TestSync(t.Context(), tenantID, e.inst, "subscription", "sub_1", &res)
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusBadRequest, apiErr.Status, "a webhook-only trigger cannot be test-synced")
	require.Contains(t, apiErr.Error(), "has no schedule")
}

// TestCRMBillingCancellationAndReactivation: a cancellation and a
// reactivation are state transitions of the one account (MRR to zero and
// back), never a second record.
func TestCRMBillingCancellationAndReactivation(t *testing.T) {
	t.Parallel()
	e := setupBillingWith(t, "sqlite", 0, billingOpts{packs: packsDir(t), subscribe: true, contract: "crm-billing"})
	e.waitPlannedRuns(t, 2)
	cus := e.billing.CreateCustomer("Acme", "")
	sub, err := e.billing.CreateSubscription(cus.ID, sim.NewBillingItem(5000, 2, "month"))
	require.NoError(t, err)
	mrrIs := func(want string) func() bool {
		return func() bool { return e.crm.Count() == 1 && e.account(t, cus.ID).Properties["mrr"] == want }
	}
	require.Eventually(t, mrrIs("100"), waitFor, 20*time.Millisecond)
	_, err = e.billing.SetStatus(sub.ID, "canceled")
	require.NoError(t, err)
	require.Eventually(t, mrrIs("0"), waitFor, 20*time.Millisecond, "a canceled subscription counts for nothing")
	_, err = e.billing.SetStatus(sub.ID, "active")
	require.NoError(t, err)
	require.Eventually(t, mrrIs("100"), waitFor, 20*time.Millisecond, "reactivated")
	e.quiet(t)
	require.Equal(t, 1, e.crm.Count(), "one account through every transition")
	require.Equal(t, 1, e.crmWrites(http.MethodPost), "created once")
}

// TestCRMBillingAccountMerge: two CRM accounts merged into one (the
// survivor names the other in hs_merged_object_ids): the links move to the
// survivor, none names the merged-away account, and a later change of
// either customer updates the survivor instead of recreating the merged
// account.
func TestCRMBillingAccountMerge(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := setupBillingWith(t, b, 0, billingOpts{packs: packsDir(t), subscribe: true, contract: "crm-billing"})
			e.waitPlannedRuns(t, 2)
			one := e.billing.CreateCustomer("Acme", "").ID
			two := e.billing.CreateCustomer("Acme Inc", "").ID
			require.Eventually(t, func() bool { return e.crm.Count() == 2 }, waitFor, 20*time.Millisecond)
			e.quiet(t)
			e.syncAll(t) // the CRM pass pairs both accounts with their customers
			loser, survivor := e.account(t, one).ID, e.account(t, two).ID

			_, err := e.crm.MergeCompanies(survivor, loser)
			require.NoError(t, err)
			e.syncAll(t)
			links, err := e.app.Store.ListLinksByTarget(t.Context(), tenantID, e.inst, "crm-app.account", loser)
			require.NoError(t, err)
			require.Empty(t, links, "no link names the merged-away account")
			links, err = e.app.Store.ListLinksByTarget(t.Context(), tenantID, e.inst, "crm-app.account", survivor)
			require.NoError(t, err)
			require.Len(t, links, 2, "both customers are linked to the survivor")
			_, err = e.app.Store.GetLink(t.Context(), store.LinkKey{TenantID: tenantID, InstallationID: e.inst, SourceObject: "account",
				SourceID: loser, TargetObject: "billing-app.customer", Action: "customer_owner"})
			require.ErrorIs(t, err, store.ErrNotFound, "no orphaned billing link from the merged-away account")
			require.EqualValues(t, 1, counter(t, e.app.Registry, "accord_sync_merges_total", map[string]string{"object": "account"}))

			posts := e.crmWrites(http.MethodPost)
			_, err = e.billing.RenameCustomer(one, "Acme Holdings")
			require.NoError(t, err)
			require.Eventually(t, func() bool {
				for _, co := range e.crm.Companies() {
					if co.ID == survivor && co.Properties["name"] == "Acme Holdings" {
						return true
					}
				}
				return false
			}, waitFor, 20*time.Millisecond, "the merged customer's change reaches the survivor")
			e.quiet(t)
			require.Equal(t, 1, e.crm.Count(), "the merged-away account is not recreated")
			require.Equal(t, posts, e.crmWrites(http.MethodPost))
		})
	}
}

// TestCRMBillingMRROverEverySubscription: a customer's MRR in the CRM is
// the sum over all its subscriptions not canceled (the pack's rule), not
// the one that changed last.
func TestCRMBillingMRROverEverySubscription(t *testing.T) {
	t.Parallel()
	e := setupBillingWith(t, "sqlite", 0, billingOpts{packs: packsDir(t), subscribe: true, contract: "crm-billing"})
	e.waitPlannedRuns(t, 2)
	cus := e.billing.CreateCustomer("Acme", "")
	mrrIs := func(want string) func() bool {
		return func() bool { return e.crm.Count() == 1 && e.account(t, cus.ID).Properties["mrr"] == want }
	}
	_, err := e.billing.CreateSubscription(cus.ID, sim.NewBillingItem(5000, 2, "month")) // 100/month
	require.NoError(t, err)
	require.Eventually(t, mrrIs("100"), waitFor, 20*time.Millisecond)
	second, err := e.billing.CreateSubscription(cus.ID, sim.NewBillingItem(120000, 1, "year")) // 100/month
	require.NoError(t, err)
	require.Eventually(t, mrrIs("200"), waitFor, 20*time.Millisecond, "both subscriptions count")
	_, err = e.billing.SetStatus(second.ID, "canceled")
	require.NoError(t, err)
	require.Eventually(t, mrrIs("100"), waitFor, 20*time.Millisecond, "the canceled one no longer does")
	require.InDelta(t, 100.0, e.billing.MRR(cus.ID), 1e-9, "the billing service agrees")
	e.quiet(t)
	require.Equal(t, 1, e.crm.Count())
}

// reconcile runs a reconciliation now, waits for its report and for every
// event it handed over, and returns the report of one object.
func (e *billingEnv) reconcile(t *testing.T, object string) syncer.ObjectReport {
	t.Helper()
	c := &api.Client{BaseURL: "http://" + e.app.Addr(), Token: adminToken}
	var before syncer.Report
	_ = c.GetReconciliation(t.Context(), tenantID, e.inst, &before)
	require.NoError(t, c.Reconcile(t.Context(), tenantID, e.inst))
	var rep syncer.Report
	require.Eventually(t, func() bool {
		rep = syncer.Report{}
		return c.GetReconciliation(t.Context(), tenantID, e.inst, &rep) == nil && !rep.FinishedAt.IsZero() &&
			rep.StartedAt.After(before.StartedAt)
	}, waitFor, 20*time.Millisecond)
	e.quiet(t)
	for _, o := range rep.Objects {
		if o.Object == object {
			return o
		}
	}
	t.Fatalf("no report for %s", object)
	return syncer.ObjectReport{}
}
