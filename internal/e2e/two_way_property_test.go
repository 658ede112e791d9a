package e2e

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/accordhq/accord/internal/web/api"
)

// twoWayOp is one step of a random history of the two sides.
type twoWayOp struct {
	kind  string // create, rename, set_owner, edit_name, sync
	index int    // which customer (modulo those created)
	value string
}

// TestCRMBillingConvergesProperty draws random histories of edits on both
// sides (customers created and renamed in billing; owners, segments and
// billing-owned names edited in the CRM) interleaved with sync passes, runs
// each against a fresh Accord with the crm-billing pack (on_drift: revert),
// and checks that both sides converge: one account per customer, the
// owner's value on every field (billing's name, the CRM's owner and
// segment), no record error, and the writes stop (no echo loop).
// CI fixes the seed (ACCORD_SOAK_SEED); rapid shrinks a failing history.
func TestCRMBillingConvergesProperty(t *testing.T) {
	if seed := os.Getenv("ACCORD_SOAK_SEED"); seed != "" {
		require.NoError(t, flag.Set("rapid.seed", seed))
	}
	checks := "8"
	if testing.Short() {
		checks = "3"
	}
	require.NoError(t, flag.Set("rapid.checks", checks))
	packs := revertPacks(t)
	iteration := 0
	rapid.Check(t, func(rt *rapid.T) {
		ops := rapid.SliceOfN(rapid.Custom(func(rt *rapid.T) twoWayOp {
			return twoWayOp{
				kind:  rapid.SampledFrom([]string{"create", "create", "rename", "set_owner", "edit_name", "sync"}).Draw(rt, "kind"),
				index: rapid.IntRange(0, 5).Draw(rt, "index"),
				value: rapid.SampledFrom([]string{"ana", "ben", "cho", "dee"}).Draw(rt, "value"),
			}
		}), 1, 14).Draw(rt, "ops")
		iteration++
		ok := t.Run(fmt.Sprintf("history-%d", iteration), func(t *testing.T) {
			runTwoWayHistory(t, packs, ops)
		})
		if !ok {
			rt.Fatalf("the sides did not converge after %v", ops)
		}
	})
}

func runTwoWayHistory(t *testing.T, packs string, ops []twoWayOp) {
	e := setupBillingWith(t, "sqlite", 0, billingOpts{packs: packs, subscribe: true, contract: "crm-billing"})
	e.waitPlannedRuns(t, 2)
	var ids []string
	pick := func(i int) (string, bool) {
		if len(ids) == 0 {
			return "", false
		}
		return ids[i%len(ids)], true
	}
	accountOf := func(id string) (string, bool) {
		for _, co := range e.crm.Companies() {
			if co.Properties["billing_customer_id"] == id {
				return co.ID, true
			}
		}
		return "", false // not written yet: the edit is skipped
	}
	for n, op := range ops {
		switch op.kind {
		case "create":
			ids = append(ids, e.billing.CreateCustomer(fmt.Sprintf("Customer %d", len(ids)), "").ID)
		case "rename":
			if id, ok := pick(op.index); ok {
				_, err := e.billing.RenameCustomer(id, fmt.Sprintf("Renamed %d by %s", n, op.value))
				require.NoError(t, err)
			}
		case "set_owner":
			if id, ok := pick(op.index); ok {
				if acc, ok := accountOf(id); ok {
					_, err := e.crm.UpdateCompany(acc, map[string]string{"owner": op.value, "segment": "seg-" + op.value})
					require.NoError(t, err)
				}
			}
		case "edit_name":
			if id, ok := pick(op.index); ok {
				if acc, ok := accountOf(id); ok {
					_, err := e.crm.UpdateCompany(acc, map[string]string{"name": "typed in the CRM by " + op.value})
					require.NoError(t, err)
				}
			}
		case "sync":
			e.syncAll(t)
		}
	}

	// Converge: the webhooks land, then passes over both sides until the
	// owners' values hold everywhere (a revert is written by the
	// settlement job within its interval).
	e.quiet(t)
	converged := func() string {
		if got := e.crm.Count(); got != len(ids) {
			return fmt.Sprintf("%d accounts for %d customers", got, len(ids))
		}
		for _, id := range ids {
			cus, err := e.billing.Customer(id)
			require.NoError(t, err)
			var acc map[string]string
			n := 0
			for _, co := range e.crm.Companies() {
				if co.Properties["billing_customer_id"] == id {
					acc, n = co.Properties, n+1
				}
			}
			switch {
			case n != 1:
				return fmt.Sprintf("customer %s has %d accounts", id, n)
			case acc["name"] != cus.Name:
				return fmt.Sprintf("account of %s is named %q, billing (the owner) says %q", id, acc["name"], cus.Name)
			case acc["owner"] != cus.Metadata["owner"] || acc["segment"] != cus.Metadata["segment"]:
				return fmt.Sprintf("customer %s has owner %q/%q, the CRM (the owner) says %q/%q", id,
					cus.Metadata["owner"], cus.Metadata["segment"], acc["owner"], acc["segment"])
			}
		}
		return ""
	}
	deadline := time.Now().Add(waitFor)
	for why := converged(); why != ""; why = converged() {
		require.True(t, time.Now().Before(deadline), "not converged: %s", why)
		e.syncAll(t) // each pass waits for its own runs and deliveries
	}
	c := &api.Client{BaseURL: "http://" + e.app.Addr(), Token: adminToken}
	errs, err := c.ListRecordErrors(t.Context(), tenantID, "")
	require.NoError(t, err)
	require.Empty(t, errs)

	// No echo loop: the writes stop. An account the CRM pass had not
	// listed yet is paired with its customer by one write (the owner and
	// segment it holds, empty or not); after that, passes over both sides
	// write nothing anywhere.
	writes := func() int { return e.crmWrites(http.MethodPost) + e.crmWrites(http.MethodPatch) + e.billingWrites() }
	quiet := false
	for range 4 {
		before := writes()
		e.syncAll(t)
		if writes() == before {
			quiet = true
			break
		}
	}
	require.True(t, quiet, "four passes after convergence still wrote: an echo loop")
	crmWrites, billingWrites := e.crmWrites(http.MethodPost)+e.crmWrites(http.MethodPatch), e.billingWrites()
	e.syncAll(t)
	require.Equal(t, crmWrites, e.crmWrites(http.MethodPost)+e.crmWrites(http.MethodPatch), "no echo loop into the CRM")
	require.Equal(t, billingWrites, e.billingWrites(), "no echo loop into billing")
}

// revertPacks is the shipped packs with crm-billing set to on_drift: revert.
func revertPacks(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	dst := filepath.Join(dir, "crm-billing")
	require.NoError(t, os.CopyFS(dst, os.DirFS(filepath.Join(packsDir(t), "crm-billing"))))
	file := filepath.Join(dst, "contracts", "crm-billing.yaml")
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Contains(t, string(raw), "on_drift: report\n")
	require.NoError(t, os.WriteFile(file, []byte(strings.Replace(string(raw), "on_drift: report\n", "on_drift: revert\n", 1)), 0o600))
	return dir
}
