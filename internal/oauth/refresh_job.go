package oauth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/store"
)

// Job kinds of the background refresh.
const (
	KindRefresh      = "accord_refresh_token"
	KindRefreshSweep = "accord_refresh_sweep"
)

// RefreshArgs is the job that refreshes one connection's access token
// ahead of its expiry.
type RefreshArgs struct {
	TenantID     string `json:"tenant_id"`
	ConnectionID string `json:"connection_id"`
}

// Kind implements river.JobArgs.
func (RefreshArgs) Kind() string { return KindRefresh }

// InsertOpts makes the job unique per connection while it waits or runs:
// every sweep sees an expiring connection again, and one pending refresh
// is enough.
func (RefreshArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: 5,
		UniqueOpts: river.UniqueOpts{
			ByArgs: true,
			ByState: []rivertype.JobState{
				rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
				rivertype.JobStateRunning, rivertype.JobStateScheduled,
			},
		},
	}
}

// RefreshSweepArgs is the periodic job that finds connections whose token
// expires soon and enqueues their RefreshArgs.
type RefreshSweepArgs struct{}

// Kind implements river.JobArgs.
func (RefreshSweepArgs) Kind() string { return KindRefreshSweep }

// RefreshJobConfig tunes the background refresh. The zero value (or nil)
// takes the defaults.
type RefreshJobConfig struct {
	// Interval is how often the sweeper runs (on the leader only).
	// Default 1 minute.
	Interval time.Duration
	// Window is how far ahead the sweeper looks: connections whose token
	// expires within it get a refresh job. Default 10 minutes.
	Window time.Duration
	// Lead is how long before expiry the refresh job runs. A token that
	// lives shorter than Lead is refreshed at every sweep. Default 2
	// minutes; at most Window.
	Lead time.Duration
}

func (c *RefreshJobConfig) withDefaults() RefreshJobConfig {
	var out RefreshJobConfig
	if c != nil {
		out = *c
	}
	if out.Interval <= 0 {
		out.Interval = time.Minute
	}
	if out.Window <= 0 {
		out.Window = 10 * time.Minute
	}
	if out.Lead <= 0 {
		out.Lead = 2 * time.Minute
	}
	out.Lead = min(out.Lead, out.Window)
	return out
}

// Register adds the refresh job, its sweeper and the periodic schedule to
// reg, with the default RefreshJobConfig.
func (m *Manager) Register(reg *queue.Registry) error {
	return m.RegisterWith(reg, nil)
}

// RegisterWith is Register with explicit settings.
func (m *Manager) RegisterWith(reg *queue.Registry, cfg *RefreshJobConfig) error {
	c := cfg.withDefaults()
	if err := queue.AddWorker(reg, &refreshWorker{m: m, cfg: c}); err != nil {
		return fmt.Errorf("oauth: %w", err)
	}
	if err := queue.AddWorker(reg, &sweepWorker{m: m, cfg: c}); err != nil {
		return fmt.Errorf("oauth: %w", err)
	}
	err := reg.AddPeriodic(river.PeriodicInterval(c.Interval),
		func() (river.JobArgs, *river.InsertOpts) { return RefreshSweepArgs{}, nil },
		&river.PeriodicJobOpts{ID: KindRefreshSweep, RunOnStart: true})
	if err != nil {
		return fmt.Errorf("oauth: %w", err)
	}
	return nil
}

// ExpiringConnections lists the active OAuth connections, across tenants,
// whose access token expires before deadline.
//
// It walks ListTenants then ListConnections: fine for thousands of
// connections; a store query on token_expires_at is the way past that.
func (m *Manager) ExpiringConnections(ctx context.Context, deadline time.Time) ([]store.Connection, error) {
	tenants, err := m.st.ListTenants(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing tenants: %w", err)
	}
	var out []store.Connection
	for _, t := range tenants {
		conns, err := m.st.ListConnections(ctx, t.ID)
		if err != nil {
			return nil, fmt.Errorf("listing connections of %s: %w", t.ID, err)
		}
		for _, c := range conns {
			if c.State != store.ConnectionActive || c.TokenExpiresAt.IsZero() || !c.TokenExpiresAt.Before(deadline) {
				continue
			}
			if p, ok := m.providers[c.Provider]; !ok || !p.usesOAuth() {
				continue
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// RefreshAhead refreshes the connection's token if it expires before
// deadline. It returns whether a refresh was made (false also when another
// caller refreshed meanwhile). A connection that is no longer active, or
// whose refresh failed for good (it is now needs_reconnect), is not an
// error here: the state change was recorded and an admin must act.
func (m *Manager) RefreshAhead(ctx context.Context, tenantID, connectionID string, deadline time.Time) (bool, error) {
	c, p, sec, err := m.load(ctx, m.st, tenantID, connectionID)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, ErrUnknownProvider) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if c.State != store.ConnectionActive || !p.usesOAuth() {
		return false, nil
	}
	if sec.Expiry.IsZero() || !sec.Expiry.Before(deadline) {
		return false, nil
	}
	fresh, err := m.TokenSource(tenantID, connectionID).ForceRefresh(ctx, sec.AccessToken)
	if errors.Is(err, ErrNeedsReconnect) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return fresh.AccessToken != sec.AccessToken, nil
}

type refreshWorker struct {
	river.WorkerDefaults[RefreshArgs]
	m   *Manager
	cfg RefreshJobConfig
}

func (w *refreshWorker) Work(ctx context.Context, job *river.Job[RefreshArgs]) error {
	// The job runs Lead before expiry; Interval of slack covers a job that
	// started a little early or a sweep that was late.
	deadline := w.m.cfg.Now().Add(w.cfg.Lead + w.cfg.Interval)
	refreshed, err := w.m.RefreshAhead(ctx, job.Args.TenantID, job.Args.ConnectionID, deadline)
	if err != nil {
		return fmt.Errorf("refreshing ahead of expiry: %w", err)
	}
	if refreshed {
		w.m.cfg.Logger.DebugContext(ctx, "token refreshed ahead of expiry", "tenant_id", job.Args.TenantID,
			"connection_id", job.Args.ConnectionID)
	}
	return nil
}

type sweepWorker struct {
	river.WorkerDefaults[RefreshSweepArgs]
	m   *Manager
	cfg RefreshJobConfig
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[RefreshSweepArgs]) error {
	now := w.m.cfg.Now()
	// Connect links nobody used: their rows only make them single use.
	if n, err := w.m.st.DeleteExpiredConnectSessions(ctx, now); err != nil {
		w.m.cfg.Logger.WarnContext(ctx, "deleting expired connect links", "error", err)
	} else if n > 0 {
		w.m.cfg.Logger.DebugContext(ctx, "expired connect links deleted", "links", n)
	}
	conns, err := w.m.ExpiringConnections(ctx, now.Add(w.cfg.Window))
	if err != nil {
		return fmt.Errorf("sweeping expiring tokens: %w", err)
	}
	if len(conns) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, 0, len(conns))
	for _, c := range conns {
		args := RefreshArgs{TenantID: c.TenantID, ConnectionID: c.ID}
		opts := args.InsertOpts()
		if at := c.TokenExpiresAt.Add(-w.cfg.Lead); at.After(now) {
			opts.ScheduledAt = at
		}
		params = append(params, river.InsertManyParams{Args: args, InsertOpts: &opts})
	}
	if err := insertFromContext(ctx, params); err != nil {
		return fmt.Errorf("enqueueing token refreshes: %w", err)
	}
	w.m.cfg.Logger.DebugContext(ctx, "token refreshes enqueued", "connections", len(conns))
	return nil
}

// insertFromContext inserts through the River client working the job: the
// Manager is built, and registers its workers, before the Queue exists.
func insertFromContext(ctx context.Context, params []river.InsertManyParams) error {
	if c, err := river.ClientFromContextSafely[*sql.Tx](ctx); err == nil {
		_, err = c.InsertMany(ctx, params)
		return err
	}
	if c, err := river.ClientFromContextSafely[pgx.Tx](ctx); err == nil {
		_, err = c.InsertMany(ctx, params)
		return err
	}
	return errors.New("no job queue client in context")
}
