package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/syncer"
	"github.com/accordhq/accord/internal/web/api"
)

// TestCRMBillingDeletes deletes a billing customer under each on_delete
// policy of the crm-billing pack's account action: mark (as shipped: the
// account stays, marked deleted with no MRR), propagate (the account is
// deleted in the CRM too) and ignore (left as it is). In each, the other
// customer's account is untouched, the deletion is counted, and the
// billing service's late retry of an update older than the deletion is
// stale: it neither recreates nor unmarks the account.
func TestCRMBillingDeletes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		policy  string
		did     string
		backend []backend
	}{
		{"mark", "marked", backends()},
		{"propagate", "propagated", backends()},
		{"ignore", "ignored", []backend{"sqlite"}},
	}
	for _, tc := range cases {
		for _, b := range tc.backend {
			t.Run(tc.policy+"/"+string(b), func(t *testing.T) {
				t.Parallel()
				packs := packsDir(t)
				if tc.policy != "mark" {
					packs = crmBillingWith(t, func(s string) string {
						const shipped = "on_delete: mark, delete_mark: [{to: billing_status, default: deleted}, {to: mrr, default: 0}]"
						require.Contains(t, s, shipped, "the pack's delete policy changed; update the test's edit")
						return strings.Replace(s, shipped, "on_delete: "+tc.policy, 1)
					})
				}
				// Every reading of the billing clock is a second later, so
				// each change has its own version.
				var tick atomic.Int64
				base := time.Now()
				e := setupBillingWith(t, b, 0, billingOpts{packs: packs, subscribe: true, contract: "crm-billing",
					billingNow: func() time.Time { return base.Add(time.Duration(tick.Add(1)) * time.Second) }})
				e.waitPlannedRuns(t, 2)
				gone := e.billing.CreateCustomer("Gone Ltd", "")
				kept := e.billing.CreateCustomer("Kept Inc", "")
				require.Eventually(t, func() bool { return e.crm.Count() == 2 }, waitFor, 20*time.Millisecond)
				e.quiet(t)
				before := e.account(t, gone.ID)
				old, err := e.billing.Customer(gone.ID)
				require.NoError(t, err)

				require.NoError(t, e.billing.DeleteCustomer(gone.ID))
				deletes := map[string]string{"provider": "crm-app", "object": "account", "action": tc.did}
				require.Eventually(t, func() bool { return counter(t, e.app.Registry, "accord_sync_deletes_total", deletes) == 1 },
					waitFor, 20*time.Millisecond, "the deletion is handled and counted")
				e.quiet(t)
				check := func(when string) {
					t.Helper()
					switch tc.policy {
					case "mark":
						acc := e.account(t, gone.ID)
						require.Equal(t, "deleted", acc.Properties["billing_status"], when)
						require.Equal(t, "0", acc.Properties["mrr"], when)
						require.Equal(t, before.ID, acc.ID, "%s: the account is kept", when)
					case "propagate":
						require.Equal(t, 1, e.crm.Count(), "%s: the account is deleted in the CRM", when)
						for _, co := range e.crm.Companies() {
							require.NotEqual(t, gone.ID, co.Properties["billing_customer_id"], when)
						}
					case "ignore":
						require.Equal(t, before.Properties, e.account(t, gone.ID).Properties, "%s: the account is left as it was", when)
					}
					require.Equal(t, "active", e.account(t, kept.ID).Properties["billing_status"], "%s: the other account is untouched", when)
				}
				check("after the deletion")
				if tc.policy == "propagate" {
					require.Equal(t, 1, e.crmWrites(http.MethodDelete), "one DELETE reached the CRM")
				}

				// The billing service retries an old delivery late: it is
				// older than the deletion, so it is stale.
				stale := counter(t, e.app.Registry, "accord_event_outcomes_total", map[string]string{"outcome": "stale"})
				e.billing.Emit("customer.updated", old)
				require.Eventually(t, func() bool {
					return counter(t, e.app.Registry, "accord_event_outcomes_total", map[string]string{"outcome": "stale"}) > stale
				}, waitFor, 20*time.Millisecond, "the late update ends stale")
				e.quiet(t)
				check("after a late, older update")

				c := &api.Client{BaseURL: "http://" + e.app.Addr(), Token: adminToken}
				errs, err := c.ListRecordErrors(t.Context(), tenantID, "")
				require.NoError(t, err)
				require.Empty(t, errs)
			})
		}
	}
}

// crmBillingWith is a packs directory whose crm-billing contract is the
// shipped one edited by edit.
func crmBillingWith(t *testing.T, edit func(string) string) string {
	t.Helper()
	dir := t.TempDir()
	dst := filepath.Join(dir, "crm-billing")
	require.NoError(t, os.CopyFS(dst, os.DirFS(filepath.Join(packsDir(t), "crm-billing"))))
	file := filepath.Join(dst, "contracts", "crm-billing.yaml")
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, []byte(edit(string(raw))), 0o600))
	return dir
}

// TestReconciliationAppliesMissedDeletes: billing customers deleted with
// no webhook to say so are found by a complete listing and handled
// through the action's on_delete (the shipped pack marks the account),
// one of 25 being under the guard; three more at once are past it (5% of
// the records written from), so nothing is handed over and an alert says
// why.
func TestReconciliationAppliesMissedDeletes(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := setupBillingWith(t, b, 0, billingOpts{packs: packsDir(t), contract: "crm-billing"}) // no webhooks
			e.waitPlannedRuns(t, 2)
			ids := make([]string, 25)
			for i := range ids {
				ids[i] = e.billing.CreateCustomer(fmt.Sprintf("Customer %d", i), "").ID
			}
			e.syncAll(t)
			waitCount(t, e.crm.Count, len(ids))
			reconcile := func() syncer.ObjectReport {
				t.Helper()
				o := e.reconcile(t, "billing-app.customer")
				require.True(t, o.Complete, o.Error)
				return o
			}

			require.NoError(t, e.billing.DeleteCustomer(ids[3]))
			cus := reconcile()
			require.Equal(t, 1, cus.SourcesDeleted)
			require.Equal(t, []string{ids[3]}, cus.SourcesDeletedSamples)
			require.False(t, cus.SourcesStopped, "1 of 25 is under the guard")
			require.Equal(t, "deleted", e.account(t, ids[3]).Properties["billing_status"], "the missed deletion is applied: the account is marked")
			require.EqualValues(t, 1, counter(t, e.app.Registry, "accord_sync_deletes_total", map[string]string{"action": "marked"}))

			again := reconcile()
			require.Zero(t, again.SourcesDeleted, "a deletion handled once is not handed over again")

			for _, i := range []int{5, 6, 7} {
				require.NoError(t, e.billing.DeleteCustomer(ids[i]))
			}
			cus = reconcile()
			require.Equal(t, 3, cus.SourcesDeleted)
			require.True(t, cus.SourcesStopped, "3 of 24 is past the guard: a fault, nothing is deleted")
			require.EqualValues(t, 1, counter(t, e.app.Registry, "accord_alerts_total", map[string]string{"class": "delete_guard"}))
			for _, i := range []int{5, 6, 7} {
				require.Equal(t, "active", e.account(t, ids[i]).Properties["billing_status"], "nothing is marked past the guard")
			}
			require.EqualValues(t, 1, counter(t, e.app.Registry, "accord_sync_deletes_total", map[string]string{"action": "marked"}))
		})
	}
}

// TestDeletionBeforeItsCreation: the partner delivers a record's deletion
// before its creation (out of order). The deletion finds nothing linked
// but leaves a tombstone at its version, so the creation arriving after it,
// older, is stale: no account is made for a customer that no longer
// exists.
func TestDeletionBeforeItsCreation(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := setupBillingWith(t, b, 0, billingOpts{packs: packsDir(t), subscribe: true, contract: "crm-billing"})
			e.waitPlannedRuns(t, 2)
			ghost := sim.BillingCustomer{ID: "cus_ghost", Object: "customer", Name: "Ghost Ltd", Updated: 2_000_000_000}
			e.billing.Emit("customer.deleted", ghost)
			created := ghost
			created.Updated--
			e.billing.Emit("customer.created", created)
			stale := map[string]string{"outcome": "stale"}
			require.Eventually(t, func() bool {
				return counter(t, e.app.Registry, "accord_event_outcomes_total", stale) == 1
			}, waitFor, 20*time.Millisecond, "the late creation ends stale")
			e.quiet(t)
			require.EqualValues(t, 1, counter(t, e.app.Registry, "accord_sync_deletes_total", map[string]string{"action": "unlinked"}))
			require.Zero(t, e.crm.Count(), "no account for a deleted customer")
		})
	}
}
