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
	r, ok := e.jobs.(JobRunner)
	if !ok {
		return nil // no queue yet (or one that cannot): jobs wake on their own tick
	}
	n, err := r.RunWaitingNow(ctx, KindDeliver, map[string]string{"tenant_id": conn.TenantID})
	if err != nil {
		return fmt.Errorf("engine: resuming connection %s: %w", conn.ID, err)
	}
	e.deps.Logger.InfoContext(ctx, "connection resumed: waiting deliveries run now",
		"tenant_id", conn.TenantID, "connection_id", conn.ID, "jobs", n)
	return nil
}
