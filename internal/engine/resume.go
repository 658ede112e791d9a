package engine

import (
	"context"
	"fmt"

	"github.com/accordhq/accord/internal/store"
)

// JobRunner makes waiting jobs run now; *queue.Queue is one. The engine
// uses it when the queue given to UseQueue has it.
type JobRunner interface {
	RunWaitingNow(ctx context.Context, kind string, argEquals map[string]string) (int, error)
}

// ResumeConnection is called when conn's state changes (a reconnect, an
// admin retry lifting missing_scopes). When conn is active again, the
// tenant's delivery jobs waiting out their pause interval (snoozed) or a
// backoff (retryable) run now instead of on their next tick. The engine
// also drops conn from its lookup cache so no worker reads the old state.
//
// Every waiting delivery job of the tenant is woken, not only those that
// write through conn: jobs do not record which connection paused them, and
// a job still blocked by another paused connection just snoozes again.
//
// Order is kept: the jobs are made available in insertion order and River
// runs available jobs by scheduled time then id; and whatever order they
// finish in, the per-object version watermark skips an older version that
// arrives after a newer one, so an object's versions apply in order.
// A job that finishes while being woken runs once more, which is harmless
// (see the package doc).
func (e *Engine) ResumeConnection(ctx context.Context, conn store.Connection) error {
	e.cache.forgetConnection(conn.TenantID, conn.ID)
	if conn.State != store.ConnectionActive {
		return nil
	}
	n := -1 // unknown: no queue to ask
	if r, ok := e.jobs.(JobRunner); ok {
		var err error
		if n, err = r.RunWaitingNow(ctx, KindDeliver, map[string]string{"tenant_id": conn.TenantID}); err != nil {
			return fmt.Errorf("engine: resuming connection %s: %w", conn.ID, err)
		}
	}
	resolved, err := e.resolveOutage(ctx, conn, n)
	if err != nil {
		return fmt.Errorf("engine: resuming connection %s: %w", conn.ID, err)
	}
	e.deps.Logger.InfoContext(ctx, "connection resumed: waiting deliveries run now",
		"tenant_id", conn.TenantID, "connection_id", conn.ID, "jobs", n, "record_errors_resolved", resolved)
	return nil
}

// resolveOutage resolves the record errors the pause filed (one per
// installation and outage, classes auth and permission) for the
// installations writing through conn: the writes they held are released
// and go out in order, and one that fails again files its own record
// error. The resolution names how many waiting writes were released.
func (e *Engine) resolveOutage(ctx context.Context, conn store.Connection, released int) (int, error) {
	insts, err := e.deps.Store.ListInstallationsByConnection(ctx, conn.TenantID, conn.ID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, inst := range insts {
		for _, status := range []store.RecordErrorStatus{store.RecordErrorOpen, store.RecordErrorRetrying} {
			list, err := e.deps.Store.ListRecordErrors(ctx, conn.TenantID, store.RecordErrorFilter{InstallationID: inst.ID, Status: status, Limit: 1000})
			if err != nil {
				return n, err
			}
			for _, re := range list {
				if re.Class != ClassAuth && re.Class != ClassPermission {
					continue
				}
				if err := e.deps.Store.SetRecordErrorStatus(ctx, conn.TenantID, re.ID, store.RecordErrorResolved); err != nil {
					return n, err
				}
				n++
			}
		}
	}
	if n > 0 {
		e.deps.Logger.InfoContext(ctx, "outage record errors resolved: held writes released", "tenant_id", conn.TenantID,
			"connection_id", conn.ID, "record_errors", n, "writes_released", released)
	}
	return n, nil
}
