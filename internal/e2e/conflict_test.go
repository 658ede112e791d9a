package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/web/api"
)

// TestCRMBillingConflicts: a sales rep types an account's name in the CRM
// (billing owns it) and, before any sync has seen that, billing renames
// the customer: both sides changed the field since Accord wrote it. As
// shipped (on_conflict: owner_wins) billing's name is written and the
// conflict is in the audit log with all three values; with hold nothing
// is written and a conflict record error shows them, and retrying it
// writes billing's name. A rename with no CRM edit is no conflict.
func TestCRMBillingConflicts(t *testing.T) {
	t.Parallel()
	for _, rule := range []string{"owner_wins", "hold"} {
		for _, b := range backends() {
			t.Run(rule+"/"+string(b), func(t *testing.T) {
				t.Parallel()
				packs := packsDir(t)
				if rule == "hold" {
					packs = crmBillingWith(t, func(s string) string {
						require.Contains(t, s, "on_conflict: owner_wins\n", "the pack's conflict rule changed; update the test's edit")
						return strings.Replace(s, "on_conflict: owner_wins\n", "on_conflict: hold\n", 1)
					})
				}
				e := setupBillingWith(t, b, 0, billingOpts{packs: packs, subscribe: true, contract: "crm-billing"})
				e.waitPlannedRuns(t, 2)
				contested := e.billing.CreateCustomer("Acme", "").ID
				calm := e.billing.CreateCustomer("Calm", "").ID
				require.Eventually(t, func() bool { return e.crm.Count() == 2 }, waitFor, 20*time.Millisecond)
				e.quiet(t)
				conflicts := func(resolution string) float64 {
					return counter(t, e.app.Registry, "accord_sync_conflicts_total", map[string]string{"resolution": resolution})
				}

				_, err := e.billing.RenameCustomer(calm, "Calm Ltd")
				require.NoError(t, err)
				require.Eventually(t, func() bool { return e.account(t, calm).Properties["name"] == "Calm Ltd" }, waitFor, 20*time.Millisecond)

				_, err = e.crm.UpdateCompany(e.account(t, contested).ID, map[string]string{"name": "Typed by sales"})
				require.NoError(t, err)
				_, err = e.billing.RenameCustomer(contested, "Acme Corp")
				require.NoError(t, err)
				require.Eventually(t, func() bool { return conflicts(rule) == 1 }, waitFor, 20*time.Millisecond, "the conflict is found")
				e.quiet(t)
				require.Zero(t, conflicts(map[string]string{"owner_wins": "hold", "hold": "owner_wins"}[rule]))

				c := &api.Client{BaseURL: "http://" + e.app.Addr(), Token: adminToken}
				want := engine.Conflict{Field: "name", Theirs: "Typed by sales", Written: "Acme", Ours: "Acme Corp"}
				if rule == "owner_wins" {
					require.Equal(t, "Acme Corp", e.account(t, contested).Properties["name"], "the owner's value is written")
					require.Equal(t, []engine.Conflict{want}, auditedConflicts(t, e), "the conflict is recorded with its three values")
					errs, err := c.ListRecordErrors(t.Context(), tenantID, "")
					require.NoError(t, err)
					require.Empty(t, errs)
					return
				}
				require.Equal(t, "Typed by sales", e.account(t, contested).Properties["name"], "held: nothing is written")
				errs, err := c.ListRecordErrors(t.Context(), tenantID, "open")
				require.NoError(t, err)
				require.Len(t, errs, 1)
				require.Equal(t, engine.ClassConflict, errs[0].Class)
				require.Contains(t, errs[0].Message, `name: CRM has "Typed by sales", Accord last wrote "Acme", Billing now says "Acme Corp"`)
				require.Empty(t, auditedConflicts(t, e))

				_, err = c.RetryRecordError(t.Context(), tenantID, errs[0].ID)
				require.NoError(t, err)
				require.Eventually(t, func() bool { return e.account(t, contested).Properties["name"] == "Acme Corp" }, waitFor, 20*time.Millisecond,
					"retrying the conflict writes the owner's value")
				require.Equal(t, []engine.Conflict{want}, auditedConflicts(t, e), "the decision is recorded")
				require.Eventually(t, func() bool {
					open, err := c.ListRecordErrors(t.Context(), tenantID, "open")
					return err == nil && len(open) == 0
				}, waitFor, 20*time.Millisecond, "the record error is resolved")
			})
		}
	}
}

// auditedConflicts returns the conflicts recorded in the tenant's audit log.
func auditedConflicts(t *testing.T, e *billingEnv) []engine.Conflict {
	t.Helper()
	entries, err := e.app.Store.ListAudit(t.Context(), tenantID, 0, 1000)
	require.NoError(t, err)
	var out []engine.Conflict
	for _, en := range entries {
		if en.Action != "sync.conflict_resolved" {
			continue
		}
		require.Equal(t, "accord", en.Actor)
		var d struct {
			Conflicts []engine.Conflict `json:"conflicts"`
		}
		require.NoError(t, json.Unmarshal(en.Detail, &d))
		out = append(out, d.Conflicts...)
	}
	return out
}
