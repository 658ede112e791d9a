package uninstall_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/connection"
	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/dbtest"
	"github.com/accordhq/accord/internal/uninstall"
)

var quiet = slog.New(slog.DiscardHandler)

// eachDB runs fn on every store (dbtest.Each).
func eachDB(t *testing.T, fn func(t *testing.T, st store.Store)) { dbtest.Each(t, fn) }

// deliverArgs stands for the engine's delivery job: its args carry the
// tenant and connection.
type deliverArgs struct {
	TenantID     string `json:"tenant_id"`
	ConnectionID string `json:"connection_id"`
}

func (deliverArgs) Kind() string { return "test_deliver" }

// revoker is the partner side of Disconnect: it records the revocation
// and lets the connection lifecycle wipe the secret.
type revoker struct {
	life    *connection.Lifecycle
	mu      sync.Mutex
	revoked []string
}

func (r *revoker) Disconnect(ctx context.Context, tenantID, id, actor string) (bool, error) {
	r.mu.Lock()
	r.revoked = append(r.revoked, id)
	r.mu.Unlock()
	_, err := r.life.Disconnect(ctx, tenantID, id, actor, map[string]any{"revoked_at_provider": true})
	return true, err
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time                { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration)           { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }
func newClock() *clock                         { return &clock{now: time.Now().UTC()} }
func retention(d time.Duration) *spec.Duration { v := spec.Duration(d); return &v }

// hooks is the partner side of deregister_webhooks: it records each
// connection asked for and answers with fail's error, if any.
type hooks struct {
	rev  *revoker
	mu   sync.Mutex
	asks []string
	// revokedFirst counts the asks that came after a revocation.
	revokedFirst int
	fail         func(id string) error
}

func (h *hooks) Deregister(_ context.Context, _, id, _ string) (bool, error) {
	h.rev.mu.Lock()
	revoked := len(h.rev.revoked)
	h.rev.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.asks = append(h.asks, id)
	if revoked > 0 {
		h.revokedFirst++
	}
	if h.fail != nil {
		if err := h.fail(id); err != nil {
			return false, err
		}
	}
	return true, nil
}

// hookError is a deregistration failure, permanent or not.
type hookError struct{ temporary bool }

func (e hookError) Error() string   { return fmt.Sprintf("partner refused (temporary %v)", e.temporary) }
func (e hookError) Temporary() bool { return e.temporary }

type bundle struct {
	hooks *hooks
	st    store.Store
	q     *queue.Queue
	u     *uninstall.Uninstaller
	rev   *revoker
	clock *clock
	jobs  []int64 // the tenant's waiting deliveries
}

// setup stores tenant t1 with an installation over two connections (and a
// second installation sharing neither), traffic on both (events, links,
// record errors, waiting deliveries), and tenant t2 with the same ids.
func setup(t *testing.T, st store.Store, keep time.Duration, workers bool) *bundle {
	t.Helper()
	ctx := context.Background()
	b := &bundle{st: st, clock: newClock(), rev: &revoker{life: connection.New(st, nil)}}
	b.hooks = &hooks{rev: b.rev}
	reg := queue.NewRegistry()
	require.NoError(t, queue.AddWorker(reg, river.WorkFunc(func(ctx context.Context, job *river.Job[deliverArgs]) error { return nil })))
	contract := &spec.Contract{Name: "escalation", Version: "1.0.0", Boundaries: spec.Boundaries{Retention: retention(keep)}}
	var err error
	qcfg := &queue.Config{Workers: workers, MaxWorkers: 4, Logger: quiet,
		RetryPolicy: &queue.Backoff{Base: 10 * time.Millisecond, Max: 10 * time.Millisecond}}
	// The queue is built over a registry that the uninstaller joins
	// first: Register before New.
	b.u, err = uninstall.New(st, lateQueue{&b.q}, b.rev, &uninstall.Config{
		Contract: func(name, version string) (*spec.Contract, bool) { return contract, name == "escalation" },
		JobKinds: []string{deliverArgs{}.Kind()}, BatchSize: 2, Now: b.clock.Now, Logger: quiet, Webhooks: b.hooks})
	require.NoError(t, err)
	require.NoError(t, b.u.Register(reg))
	b.q, err = queue.New(st, reg, qcfg)
	require.NoError(t, err)
	require.NoError(t, b.q.Migrate(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.q.Stop(ctx)
	})

	for _, tenant := range []string{"t1", "t2"} {
		require.NoError(t, st.CreateTenant(ctx, store.Tenant{ID: tenant, Name: tenant}))
		for _, c := range []string{"c_help", "c_inc", "c_other"} {
			require.NoError(t, st.CreateConnection(ctx, store.Connection{TenantID: tenant, ID: c, Provider: c,
				State: store.ConnectionActive, Secret: []byte("sealed")}))
		}
		require.NoError(t, st.CreateInstallation(ctx, store.Installation{TenantID: tenant, ID: "inst", Contract: "escalation",
			ContractVersion: "1.0.0", State: store.InstallationActive, Connections: map[string]string{"helpdesk": "c_help", "incidents": "c_inc"}}))
		require.NoError(t, st.CreateInstallation(ctx, store.Installation{TenantID: tenant, ID: "other", Contract: "chat",
			ContractVersion: "1.0.0", State: store.InstallationActive, Connections: map[string]string{"chat": "c_other"}}))
		for i := range 5 {
			for _, c := range []string{"c_help", "c_other"} {
				_, err := st.InsertEvent(ctx, store.Event{TenantID: tenant, ID: fmt.Sprintf("ev_%s_%d", c, i), ConnectionID: c,
					DedupKey: fmt.Sprint(i), Type: "ticket.updated", ObjectID: "o", Payload: json.RawMessage(`{"email":"a@b.c"}`)})
				require.NoError(t, err)
			}
			require.NoError(t, st.UpsertLink(ctx, store.Link{LinkKey: store.LinkKey{TenantID: tenant, InstallationID: "inst",
				SourceObject: "ticket", SourceID: fmt.Sprint(i), TargetObject: "incident"}, TargetID: "x", Version: 1}))
			require.NoError(t, st.InsertRecordError(ctx, store.RecordError{TenantID: tenant, ID: fmt.Sprintf("re%d", i),
				InstallationID: "inst", Class: "validation", Message: "bad email a@b.c", Status: store.RecordErrorOpen}))
		}
		later := &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)}
		for _, c := range []string{"c_help", "c_other"} {
			id, err := b.q.Insert(ctx, deliverArgs{TenantID: tenant, ConnectionID: c}, later)
			require.NoError(t, err)
			if tenant == "t1" && c == "c_help" {
				b.jobs = append(b.jobs, id)
			}
		}
	}
	return b
}

// lateQueue lets the uninstaller be built before the queue it uses, as
// registries require (the worker joins the registry the queue is built
// from); only the test needs it.
type lateQueue struct{ q **queue.Queue }

func (l lateQueue) InsertTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, error) {
	return (*l.q).InsertTx(ctx, tx, args, opts)
}

func (l lateQueue) CancelJobs(ctx context.Context, kind string, argEquals map[string]string) (int, error) {
	return (*l.q).CancelJobs(ctx, kind, argEquals)
}

// leftovers counts, in every table of the database, the rows that belong
// to tenant t1 and mention what the uninstall had to remove, apart from
// the audit log and the uninstall record (which keep who and how many,
// never data) and rows of the tenant itself.
func leftovers(t *testing.T, st store.Store) map[string]int {
	t.Helper()
	ctx := context.Background()
	keep := map[string]bool{"audit_log": true, "uninstalls": true, "tenants": true, "accord_migrations": true, "data_keys": true}
	out := map[string]int{}
	var tables []string
	switch db := st.Driver().(type) {
	case *sql.DB:
		rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'river_%'`)
		require.NoError(t, err)
		for rows.Next() {
			var n string
			require.NoError(t, rows.Scan(&n))
			tables = append(tables, n)
		}
		require.NoError(t, rows.Close())
		for _, tb := range tables {
			if keep[tb] || !hasTenantColumn(t, st, tb) {
				continue
			}
			var n int
			require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM `+tb+` WHERE tenant_id = 't1'`+notOther(tb)).Scan(&n))
			out[tb] = n
		}
	case *pgxpool.Pool:
		rows, err := db.Query(ctx, `SELECT table_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND column_name = 'tenant_id' AND table_name NOT LIKE 'river_%'`)
		require.NoError(t, err)
		for rows.Next() {
			var n string
			require.NoError(t, rows.Scan(&n))
			tables = append(tables, n)
		}
		rows.Close()
		for _, tb := range tables {
			if keep[tb] {
				continue
			}
			var n int
			require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM `+tb+` WHERE tenant_id = 't1'`+notOther(tb)).Scan(&n))
			out[tb] = n
		}
	default:
		t.Fatalf("unknown driver %T", db)
	}
	require.NotEmpty(t, out, "tables found")
	return out
}

// notOther leaves out the rows of t1's other installation, which the
// uninstall must keep.
func notOther(table string) string {
	switch table {
	case "installations":
		return ` AND id <> 'other'`
	case "connections":
		return ` AND id <> 'c_other'`
	case "events":
		return ` AND connection_id <> 'c_other'`
	}
	return ""
}

func hasTenantColumn(t *testing.T, st store.Store, table string) bool {
	db := st.Driver().(*sql.DB)
	rows, err := db.Query(`SELECT name FROM pragma_table_info(?)`, table)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		if n == "tenant_id" {
			return true
		}
	}
	return false
}

func requireNothingLeft(t *testing.T, b *bundle) {
	t.Helper()
	ctx := context.Background()
	for table, n := range leftovers(t, b.st) {
		require.Zero(t, n, "rows of the uninstalled installation left in %s", table)
	}
	// The other installation, its connection and events, and tenant t2
	// are untouched.
	other, err := b.st.GetInstallation(ctx, "t1", "other")
	require.NoError(t, err)
	require.Equal(t, store.InstallationActive, other.State)
	_, err = b.st.GetEvent(ctx, "t1", "ev_c_other_0")
	require.NoError(t, err)
	conn, err := b.st.GetConnection(ctx, "t2", "c_help")
	require.NoError(t, err)
	require.Equal(t, []byte("sealed"), conn.Secret)
	errs, err := b.st.ListRecordErrors(ctx, "t2", store.RecordErrorFilter{})
	require.NoError(t, err)
	require.Len(t, errs, 5)
	// Its queued deliveries are gone (no job row keeps their args).
	for _, id := range b.jobs {
		_, err := b.q.JobByID(ctx, id)
		require.ErrorIs(t, err, queue.ErrJobNotFound)
	}
	require.ElementsMatch(t, []string{"c_help", "c_inc"}, b.rev.revoked, "tokens revoked once per connection")

	// The audit log says who removed what, never the data.
	entries, err := b.st.ListAudit(ctx, "t1", 0, 1000)
	require.NoError(t, err)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		require.NotContains(t, string(e.Detail), "a@b.c", "no data in the audit log")
	}
	require.Contains(t, actions, "installation.uninstall_started")
	require.Contains(t, actions, "connection.disconnected")
	require.Contains(t, actions, "installation.uninstalled")
	u, err := b.st.GetUninstall(ctx, "t1", "inst")
	require.NoError(t, err)
	require.Equal(t, store.UninstallDone, u.State)
	steps, err := uninstall.Results(u)
	require.NoError(t, err)
	counts := map[string]int{}
	for _, s := range steps {
		_, dup := counts[s.Step]
		require.False(t, dup, "step %s recorded once", s.Step)
		counts[s.Step] = s.Count
	}
	require.Equal(t, map[string]int{uninstall.StepStopIntake: 2, uninstall.StepCancelJobs: 1, uninstall.StepDeregisterHooks: 2, uninstall.StepRevokeTokens: 2,
		uninstall.StepRetain: 0, uninstall.StepPurgeEvents: 5, uninstall.StepPurgeLinks: 5, uninstall.StepPurgeRecordErrors: 5,
		uninstall.StepDeleteRows: 3}, counts)
}

// TestUninstallLeavesNothingBehind: with a retention of 0 one run removes
// every row of the installation, and only those.
func TestUninstallLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		b := setup(t, st, 0, false)
		u, err := b.u.Start(ctx, "t1", "inst", "alice")
		require.NoError(t, err)
		require.Equal(t, store.UninstallRunning, u.State)
		in, err := st.GetInstallation(ctx, "t1", "inst")
		require.NoError(t, err)
		require.Equal(t, store.InstallationUninstalled, in.State, "intake stops at once")
		_, err = b.u.Start(ctx, "t1", "inst", "alice")
		require.ErrorIs(t, err, uninstall.ErrAlreadyUninstalled)

		before := leftovers(t, st)
		for _, table := range []string{"events", "links", "record_errors", "connections", "installations"} {
			require.Positive(t, before[table], "the check sees %s", table)
		}

		require.NoError(t, b.u.Run(ctx, "t1", "inst"))
		requireNothingLeft(t, b)
		require.NoError(t, b.u.Run(ctx, "t1", "inst"), "a repeat does nothing")
	})
}

// TestUninstallResumesAfterCrash: a job that dies after any step resumes
// from the next one and finishes; no step is recorded twice.
func TestUninstallResumesAfterCrash(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		b := setup(t, st, 0, false)
		_, err := b.u.Start(ctx, "t1", "inst", "alice")
		require.NoError(t, err)
		crash := errors.New("killed")
		for _, at := range []string{uninstall.StepCancelJobs, uninstall.StepRevokeTokens, uninstall.StepPurgeLinks} {
			b.u.SetAfterStep(func(step string) error {
				if step == at {
					return crash
				}
				return nil
			})
			require.ErrorIs(t, b.u.Run(ctx, "t1", "inst"), crash)
			u, err := st.GetUninstall(ctx, "t1", "inst")
			require.NoError(t, err)
			require.Equal(t, store.UninstallRunning, u.State, "progress is visible: stopped after %s", at)
		}
		b.u.SetAfterStep(func(string) error { return nil })
		require.NoError(t, b.u.Run(ctx, "t1", "inst"))
		requireNothingLeft(t, b)
	})
}

// TestUninstallKeepsDataForRetention: tokens and jobs go at once; the data
// stays until the contract's retention has passed, then goes; the job
// runs on River and comes back by itself.
func TestUninstallKeepsDataForRetention(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		b := setup(t, st, 30*24*time.Hour, false)
		_, err := b.u.Start(ctx, "t1", "inst", "alice")
		require.NoError(t, err)
		err = b.u.Run(ctx, "t1", "inst")
		var snooze *river.JobSnoozeError
		require.ErrorAs(t, err, &snooze, "the job waits for the retention")
		require.InDelta(t, (30 * 24 * time.Hour).Seconds(), snooze.Duration.Seconds(), 5)
		u, err := st.GetUninstall(ctx, "t1", "inst")
		require.NoError(t, err)
		require.Equal(t, store.UninstallRetaining, u.State)
		require.Equal(t, uninstall.StepRetain, u.Step)
		conn, err := st.GetConnection(ctx, "t1", "c_help")
		require.NoError(t, err)
		require.Equal(t, store.ConnectionDisconnected, conn.State, "webhooks answered 410 from now on")
		require.Empty(t, conn.Secret, "secret wiped")
		_, err = st.GetEvent(ctx, "t1", "ev_c_help_0")
		require.NoError(t, err, "data kept during retention")

		b.clock.Add(30*24*time.Hour + time.Second)
		require.NoError(t, b.u.Run(ctx, "t1", "inst"))
		requireNothingLeft(t, b)
	})
}

// TestUninstallRunsAsJob: Start queues the job and a worker finishes it.
func TestUninstallRunsAsJob(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		b := setup(t, st, 0, true)
		require.NoError(t, b.q.Start(ctx))
		_, err := b.u.Start(ctx, "t1", "inst", "alice")
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			u, err := st.GetUninstall(ctx, "t1", "inst")
			return err == nil && u.State == store.UninstallDone
		}, 20*time.Second, 20*time.Millisecond)
		requireNothingLeft(t, b)
	})
}

// TestUninstallDeregistersWebhooksBeforeRevoking: the partner
// subscriptions of the connections the uninstall ends are deleted before
// their tokens are revoked (deleting needs them); a temporary failure
// stops the job there to be retried, a permanent one is recorded in the
// step and the uninstall goes on.
func TestUninstallDeregistersWebhooksBeforeRevoking(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		b := setup(t, st, 0, false)
		_, err := b.u.Start(ctx, "t1", "inst", "alice")
		require.NoError(t, err)

		b.hooks.fail = func(string) error { return hookError{temporary: true} }
		require.ErrorAs(t, b.u.Run(ctx, "t1", "inst"), &hookError{})
		u, err := st.GetUninstall(ctx, "t1", "inst")
		require.NoError(t, err)
		require.Equal(t, uninstall.StepDeregisterHooks, u.Step, "the job waits at the step for its retry")
		require.Empty(t, b.rev.revoked, "nothing revoked while the subscriptions may still be deleted")

		b.hooks.fail = func(id string) error {
			if id == "c_inc" {
				return hookError{temporary: false}
			}
			return nil
		}
		require.NoError(t, b.u.Run(ctx, "t1", "inst"))
		require.Zero(t, b.hooks.revokedFirst)
		require.Equal(t, []string{"c_help", "c_help", "c_inc"}, b.hooks.asks, "the failed connection is asked again, then the next")
		u, err = st.GetUninstall(ctx, "t1", "inst")
		require.NoError(t, err)
		res, err := uninstall.Results(u)
		require.NoError(t, err)
		for _, r := range res {
			if r.Step == uninstall.StepDeregisterHooks {
				require.Equal(t, 1, r.Count)
				require.Equal(t, []string{"c_inc: partner refused (temporary false)"}, r.Failed)
			}
		}
		require.ElementsMatch(t, []string{"c_help", "c_inc"}, b.rev.revoked, "tokens revoked all the same")
	})
}
