package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/web/api"
)

// syncPacks is a packs directory whose billing-to-crm contract also lists
// billing customers on a schedule, beside the webhooks: the catch-up pass
// for changes webhooks missed. The hourly schedule never fires during a
// test; the tests ask for runs through the API. backfill, when set, is the
// contract's boundaries.backfill.
func syncPacks(t *testing.T, backfill string) string {
	t.Helper()
	dir := t.TempDir()
	dst := filepath.Join(dir, "billing-to-crm")
	require.NoError(t, os.CopyFS(dst, os.DirFS(filepath.Join(packsDir(t), "billing-to-crm"))))
	file := filepath.Join(dst, "contracts", "billing-to-crm.yaml")
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	const webhookOnly = "customer: {webhook: {provider: billing, events: [customer.created, customer.updated]}}"
	require.Contains(t, string(raw), webhookOnly, "the pack's contract changed shape; update the test's edit")
	edited := strings.Replace(string(raw), webhookOnly,
		"customer: {webhook: {provider: billing, events: [customer.created, customer.updated]}, schedule: {provider: billing, object: customer, every: 1h}}", 1)
	// Pages of 20, so a few dozen customers make several pages.
	manifest := filepath.Join(dst, "providers", "billing.yaml")
	rawManifest, err := os.ReadFile(manifest)
	require.NoError(t, err)
	require.Contains(t, string(rawManifest), "limit: 100}")
	require.NoError(t, os.WriteFile(manifest, []byte(strings.Replace(string(rawManifest), "limit: 100}", "limit: 20}", 1)), 0o600))
	if backfill != "" {
		edited += "boundaries: {backfill: " + backfill + "}\n"
	}
	require.NoError(t, os.WriteFile(file, []byte(edited), 0o600))
	return dir
}

// syncRun asks for a sync now and waits until a run has completed after
// the request, then returns the sync's state.
func (e *billingEnv) syncRun(t *testing.T) api.SyncRun {
	t.Helper()
	c := &api.Client{BaseURL: "http://" + e.app.Addr(), Token: adminToken}
	before := e.completedRuns(t, c)
	queued, err := c.SyncNow(t.Context(), tenantID, e.inst)
	require.NoError(t, err)
	require.Equal(t, []string{"customer"}, queued.Queued)
	var run api.SyncRun
	require.Eventually(t, func() bool {
		st, err := c.GetSync(t.Context(), tenantID, e.inst)
		if err != nil || len(st.Runs) != 1 {
			return false
		}
		run = st.Runs[0]
		return run.CompletedRuns > before && !run.Running
	}, waitFor, 20*time.Millisecond, "a sync run completes")
	return run
}

func (e *billingEnv) completedRuns(t *testing.T, c *api.Client) int64 {
	t.Helper()
	st, err := c.GetSync(t.Context(), tenantID, e.inst)
	require.NoError(t, err)
	if len(st.Runs) == 0 {
		return 0
	}
	return st.Runs[0].CompletedRuns
}

// waitFirstRun waits for the run the planner starts on its own when the
// installation is new (over an empty billing service here).
func (e *billingEnv) waitFirstRun(t *testing.T) {
	t.Helper()
	c := &api.Client{BaseURL: "http://" + e.app.Addr(), Token: adminToken}
	require.Eventually(t, func() bool { return e.completedRuns(t, c) >= 1 }, waitFor, 20*time.Millisecond,
		"the planner runs a new installation's sync")
}

// waitCount waits until count reaches want, for as long as it keeps
// moving: a loaded machine writes slower, and only a count that stops
// short for waitFor fails.
func waitCount(t *testing.T, count func() int, want int) {
	t.Helper()
	waitProgress(t, count, func(n int) bool { return n >= want }, fmt.Sprintf("reaching %d", want))
}

// waitProgress polls value until done, failing only when it has not moved
// for waitFor.
func waitProgress(t *testing.T, value func() int, done func(int) bool, what string) {
	t.Helper()
	last, since := value(), time.Now()
	for !done(last) {
		time.Sleep(20 * time.Millisecond) // polling interval, not a budget
		if n := value(); n != last {
			last, since = n, time.Now()
			continue
		}
		require.Less(t, time.Since(since), waitFor, "stuck at %d before %s", last, what)
	}
}

// waitQuiet waits until every event the installation's billing connection
// stored has a final outcome.
func waitQuiet(t *testing.T, e *billingEnv) {
	t.Helper()
	waitDrained(t, e, e.conns["billing"].ID)
}

// waitDrained waits until no event stored through the connections waits
// for delivery, for as long as that number keeps moving.
func waitDrained(t *testing.T, e *billingEnv, connIDs ...string) {
	t.Helper()
	waitProgress(t, func() int {
		n, err := e.app.Store.CountWaitingEvents(t.Context(), tenantID, connIDs)
		require.NoError(t, err)
		return n
	}, func(n int) bool { return n == 0 }, "every stored event is delivered")
}

// crmWrites counts the CRM calls that create or update a company.
func (e *billingEnv) crmWrites(method string) int {
	n := 0
	for _, c := range e.crmCalls.all() {
		if c.Method == method && c.Status < 300 && strings.HasPrefix(c.Path, "/crm/v3/objects/companies") && !strings.HasSuffix(c.Path, "/search") {
			n++
		}
	}
	return n
}

// TestSyncCatchesWhatWebhooksMissed: with no webhook delivered at all, a
// sync lists every billing customer page by page and writes one company
// each; a later run applies only what changed since (three renames: three
// updates), and a run over nothing new writes nothing.
func TestSyncCatchesWhatWebhooksMissed(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := setupBillingWith(t, b, 0, billingOpts{packs: syncPacks(t, "")})
			e.waitFirstRun(t)
			const customers = 50 // pages of 20: 20, 20, 10
			ids := make([]string, 0, customers)
			for i := range customers {
				ids = append(ids, e.billing.CreateCustomer(fmt.Sprintf("Customer %d", i), "").ID)
			}

			run := e.syncRun(t)
			require.EqualValues(t, customers, run.RecordsDone)
			require.EqualValues(t, customers, run.Changes)
			require.Empty(t, run.LastError)
			require.EqualValues(t, customers, counter(t, e.app.Registry, "accord_sync_records_total", map[string]string{"result": "changed"}))
			require.EqualValues(t, 4, counter(t, e.app.Registry, "accord_sync_pages_total", map[string]string{"outcome": "committed"}),
				"the planner's first run read one empty page, this one three pages of 20 for 50 customers")
			waitCount(t, e.crm.Count, customers)
			waitQuiet(t, e)
			require.Equal(t, customers, e.crm.Count(), "one company per customer")
			require.Equal(t, customers, e.crmWrites(http.MethodPost), "one create per customer")
			names := map[string]string{}
			for _, co := range e.crm.Companies() {
				names[co.Properties["billing_customer_id"]] = co.Properties["name"]
			}
			for i, id := range ids {
				require.Equal(t, fmt.Sprintf("Customer %d", i), names[id])
			}

			for _, i := range []int{3, 27, 49} {
				_, err := e.billing.RenameCustomer(ids[i], fmt.Sprintf("Customer %d Renamed", i))
				require.NoError(t, err)
			}
			patches := e.crmWrites(http.MethodPatch)
			run = e.syncRun(t)
			require.EqualValues(t, 3, run.Changes, "only the renamed customers are new changes")
			require.Eventually(t, func() bool { return e.crmWrites(http.MethodPatch) == patches+3 }, waitFor, 20*time.Millisecond)
			waitQuiet(t, e)
			require.Equal(t, patches+3, e.crmWrites(http.MethodPatch), "three updates, nothing else")
			for _, co := range e.crm.Companies() {
				if co.Properties["billing_customer_id"] == ids[27] {
					require.Equal(t, "Customer 27 Renamed", co.Properties["name"])
				}
			}

			writes := len(e.crmCalls.all())
			run = e.syncRun(t)
			require.Zero(t, run.Changes, "nothing changed since the last run")
			waitQuiet(t, e)
			require.Equal(t, writes, len(e.crmCalls.all()), "a run over nothing new calls the CRM not once")
			require.Zero(t, counter(t, e.app.Registry, "accord_event_outcomes_total", map[string]string{"outcome": "failed"}))
		})
	}
}

// TestSyncResumesAtTheFailedPage: the partner fails the second page once;
// the run stops there and resumes at that page: the first page is never
// read again, no customer is skipped and none is written twice.
func TestSyncResumesAtTheFailedPage(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := setupBillingWith(t, b, 0, billingOpts{packs: syncPacks(t, "")})
			e.waitFirstRun(t)
			const customers = 50 // pages of 20: 20, 20, 10
			for i := range customers {
				e.billing.CreateCustomer(fmt.Sprintf("Customer %d", i), "")
			}
			var failed atomic.Bool
			e.billingCalls.mu.Lock()
			e.billingCalls.fail = func(r *http.Request) bool {
				return r.URL.Path == "/v1/customers" && r.URL.Query().Get("starting_after") != "" && failed.CompareAndSwap(false, true)
			}
			e.billingCalls.mu.Unlock()
			start := len(e.billingCalls.all())

			run := e.syncRun(t)
			require.True(t, failed.Load(), "the second page failed once")
			require.EqualValues(t, customers, run.RecordsDone)
			require.EqualValues(t, customers, run.Changes)
			require.Empty(t, run.LastError, "cleared by the next good page")
			var pages []string
			for _, c := range e.billingCalls.all()[start:] {
				if c.Path == "/v1/customers" {
					pages = append(pages, fmt.Sprintf("%d %s", c.Status, c.Query))
				}
			}
			require.Len(t, pages, 4, "first page, second page failed, second page again, third page: %v", pages)
			require.Contains(t, pages[1], "503")
			require.Equal(t, strings.TrimPrefix(pages[1], "503 "), strings.TrimPrefix(pages[2], "200 "), "the run resumed at the failed page")
			require.NotContains(t, strings.Join(pages[1:], " "), pages[0][4:], "the first page is not read again")

			waitCount(t, e.crm.Count, customers)
			waitQuiet(t, e)
			require.Equal(t, customers, e.crm.Count())
			require.Equal(t, customers, e.crmWrites(http.MethodPost), "nothing written twice")
		})
	}
}

// TestSyncAndWebhooksTogether: changes the webhooks already applied are
// listed again by the sync and recognised: the CRM already holds exactly
// those values, so nothing is written and each is counted as suppressed.
func TestSyncAndWebhooksTogether(t *testing.T) {
	t.Parallel()
	e := setupBillingWith(t, "sqlite", 0, billingOpts{packs: syncPacks(t, ""), subscribe: true})
	e.waitFirstRun(t)
	const customers = 20
	for i := range customers {
		e.billing.CreateCustomer(fmt.Sprintf("Customer %d", i), "")
	}
	waitCount(t, e.crm.Count, customers)
	waitQuiet(t, e)
	calls := len(e.crmCalls.all())

	run := e.syncRun(t)
	require.EqualValues(t, customers, run.Changes, "the listed objects are events of their own")
	waitQuiet(t, e)
	require.EqualValues(t, customers, counter(t, e.app.Registry, "accord_echo_suppressed_total", map[string]string{"provider": "crm"}),
		"every listed customer recognised; unchanged %v, stale %v, applied %v",
		counter(t, e.app.Registry, "accord_actions_total", map[string]string{"outcome": "unchanged"}),
		counter(t, e.app.Registry, "accord_actions_total", map[string]string{"outcome": "stale"}),
		counter(t, e.app.Registry, "accord_actions_total", map[string]string{"outcome": "applied"}))
	waitQuiet(t, e)
	require.Equal(t, calls, len(e.crmCalls.all()), "the CRM already holds these values: not one call")
	require.Equal(t, customers, e.crm.Count())
}

// TestSyncFirstRunReadsBackNoFurtherThanTheBackfill: the first run of a
// new installation skips customers last changed before the contract's
// boundaries.backfill (24 h here) and applies the rest.
func TestSyncFirstRunReadsBackNoFurtherThanTheBackfill(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	clock := time.Now().Add(-48 * time.Hour)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	e := setupBillingWith(t, "sqlite", 0, billingOpts{packs: syncPacks(t, "24h"), billingNow: now, seed: func(b *sim.Billing) {
		for i := range 4 {
			b.CreateCustomer(fmt.Sprintf("Old %d", i), "")
		}
		mu.Lock()
		clock = time.Now().Add(-time.Hour)
		mu.Unlock()
		for i := range 3 {
			b.CreateCustomer(fmt.Sprintf("Recent %d", i), "")
		}
	}})
	e.waitFirstRun(t)
	c := &api.Client{BaseURL: "http://" + e.app.Addr(), Token: adminToken}
	st, err := c.GetSync(t.Context(), tenantID, e.inst)
	require.NoError(t, err)
	require.Len(t, st.Runs, 1)
	require.EqualValues(t, 7, st.Runs[0].RecordsDone, "every customer is listed")
	require.EqualValues(t, 3, st.Runs[0].Changes, "only those changed within the backfill are applied")
	require.Eventually(t, func() bool { return e.crm.Count() == 3 }, waitFor, 20*time.Millisecond)
	waitQuiet(t, e)
	for _, co := range e.crm.Companies() {
		require.True(t, strings.HasPrefix(co.Properties["name"], "Recent"), co.Properties["name"])
	}
}

// TestSyncWaitsForAPausedInstallationOrALostConnection: a paused
// installation, or a connection that needs reconnecting, reads nothing and
// says why; once resumed or reconnected, the next run applies what
// changed meanwhile.
func TestSyncWaitsForAPausedInstallationOrALostConnection(t *testing.T) {
	t.Parallel()
	e := setupBillingWith(t, "sqlite", 0, billingOpts{packs: syncPacks(t, "")})
	e.waitFirstRun(t)
	c := &api.Client{BaseURL: "http://" + e.app.Addr(), Token: adminToken}
	lastError := func() string {
		st, err := c.GetSync(t.Context(), tenantID, e.inst)
		require.NoError(t, err)
		require.Len(t, st.Runs, 1)
		return st.Runs[0].LastError
	}
	listed := func() int {
		n := 0
		for _, call := range e.billingCalls.all() {
			if call.Path == "/v1/customers" {
				n++
			}
		}
		return n
	}

	_, err := c.PauseInstallation(t.Context(), tenantID, e.inst)
	require.NoError(t, err)
	e.billing.CreateCustomer("Made while paused", "")
	before := listed()
	_, err = c.SyncNow(t.Context(), tenantID, e.inst)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return strings.Contains(lastError(), "paused") }, waitFor, 20*time.Millisecond)
	require.Equal(t, before, listed(), "nothing read while paused")
	_, err = c.ResumeInstallation(t.Context(), tenantID, e.inst)
	require.NoError(t, err)
	run := e.syncRun(t)
	require.EqualValues(t, 1, run.Changes)
	require.Empty(t, run.LastError)
	require.Eventually(t, func() bool { return e.crm.Count() == 1 }, waitFor, 20*time.Millisecond)

	conn, err := e.app.Store.GetConnection(t.Context(), tenantID, e.conns["billing"].ID)
	require.NoError(t, err)
	conn.State, conn.StateReason = store.ConnectionNeedsReconnect, "the token was revoked"
	require.NoError(t, e.app.Store.UpdateConnection(t.Context(), conn))
	e.billing.CreateCustomer("Made while disconnected", "")
	before = listed()
	_, err = c.SyncNow(t.Context(), tenantID, e.inst)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return strings.Contains(lastError(), "needs_reconnect") }, waitFor, 20*time.Millisecond)
	require.Equal(t, before, listed(), "nothing read while the connection needs reconnecting")
	conn, err = e.app.Store.GetConnection(t.Context(), tenantID, e.conns["billing"].ID)
	require.NoError(t, err)
	conn.State, conn.StateReason = store.ConnectionActive, ""
	require.NoError(t, e.app.Store.UpdateConnection(t.Context(), conn))
	run = e.syncRun(t)
	require.EqualValues(t, 1, run.Changes, "the change made meanwhile")
	require.Eventually(t, func() bool { return e.crm.Count() == 2 }, waitFor, 20*time.Millisecond)
}

// TestSyncPermissionDrift: the billing service starts refusing the list
// (a scope was removed): the connection moves to missing_scopes with one
// record error that says how to reconnect, reads and writes wait, and
// after the reconnect the next run applies everything made meanwhile.
func TestSyncPermissionDrift(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := setupBillingWith(t, b, 0, billingOpts{packs: syncPacks(t, "")})
			e.waitFirstRun(t)
			c := &api.Client{BaseURL: "http://" + e.app.Addr(), Token: adminToken}
			require.NoError(t, e.billing.Inject(sim.Fault{Kind: sim.FaultForbidden, Method: http.MethodGet, Count: 1}))
			for i := range 3 {
				e.billing.CreateCustomer(fmt.Sprintf("Made while refused %d", i), "")
			}
			_, err := c.SyncNow(t.Context(), tenantID, e.inst)
			require.NoError(t, err)
			var conn api.Connection
			require.Eventually(t, func() bool {
				conn, err = c.GetConnection(t.Context(), tenantID, e.conns["billing"].ID)
				return err == nil && conn.State == "missing_scopes"
			}, waitFor, 20*time.Millisecond, "a refused read pauses the connection")
			errs, err := c.ListRecordErrors(t.Context(), tenantID, "")
			require.NoError(t, err)
			require.Len(t, errs, 1, "one record error for the outage")
			require.Equal(t, "permission", errs[0].Class)
			require.Contains(t, errs[0].Message, "reading customer for the sync")
			require.Contains(t, errs[0].Remediation, "/reconnect")
			require.Zero(t, e.crm.Count(), "nothing applied while refused")

			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+e.app.Addr()+"/api/v1/tenants/"+tenantID+
				"/connections/"+e.conns["billing"].ID+"/reconnect", strings.NewReader(`{"api_key":"`+billingToken+`","webhook_secret":"`+billingSecret+`"}`))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+adminToken)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			run := e.syncRun(t)
			require.EqualValues(t, 3, run.Changes)
			require.Eventually(t, func() bool { return e.crm.Count() == 3 }, waitFor, 20*time.Millisecond, "nothing lost")
		})
	}
}

// TestSyncCompletedIsNotified: a host subscribed to sync.completed hears of
// each complete run, with its counts.
func TestSyncCompletedIsNotified(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(raw))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(host.Close)
	e := setupBillingWith(t, "sqlite", 0, billingOpts{packs: syncPacks(t, "")})
	e.waitFirstRun(t)
	c := &api.Client{BaseURL: "http://" + e.app.Addr(), Token: adminToken}
	_, err := c.CreateNotificationEndpoint(t.Context(), tenantID, host.URL+"/accord", []string{"sync.completed"})
	require.NoError(t, err)
	for i := range 3 {
		e.billing.CreateCustomer(fmt.Sprintf("Customer %d", i), "")
	}
	e.syncRun(t)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, b := range got {
			if strings.Contains(b, `"type":"sync.completed"`) && strings.Contains(b, `"records_done":3`) && strings.Contains(b, `"changes":3`) {
				return true
			}
		}
		return false
	}, waitFor, 20*time.Millisecond, "the host hears of the completed run")
}
