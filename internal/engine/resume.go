package engine

import (
	"context"
	"fmt"

	"github.com/google/uuid"

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
	switch conn.State {
	case store.ConnectionNeedsReconnect, store.ConnectionMissingScopes:
		return e.fileOutage(ctx, conn)
	case store.ConnectionActive:
	default:
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

// fileOutage gives every installation writing through conn its one record
// error for the outage, when something other than a write paused it (the
// background refresh, a test call): the writes that then wait on the
// paused connection never reach the pause, and must not be held silently.
// Under the connection's lock, like the pause, so the two never both file.
func (e *Engine) fileOutage(ctx context.Context, conn store.Connection) error {
	class := ClassAuth
	if conn.State == store.ConnectionMissingScopes {
		class = ClassPermission
	}
	remedy := conn.StateReason + fmt.Sprintf(" Writes are held, not dropped, until the connection is recovered: POST /api/v1/tenants/%s/connections/%s/reconnect.", conn.TenantID, conn.ID)
	insts, err := e.deps.Store.ListInstallationsByConnection(ctx, conn.TenantID, conn.ID)
	if err != nil || len(insts) == 0 {
		return err
	}
	if r, ok := e.deps.Credentials.(interface {
		ReconnectURL(ctx context.Context, conn store.Connection) (string, error)
	}); ok {
		if open, err := e.hasOpenRecordError(ctx, e.deps.Store, insts[0], class); err == nil && !open {
			if u, err := r.ReconnectURL(ctx, conn); err == nil && u != "" {
				remedy += " Or open this single-use link to sign in again: " + u
			}
		}
	}
	var filed []store.RecordError
	err = e.deps.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		filed = filed[:0]
		cur, err := tx.LockConnection(ctx, conn.TenantID, conn.ID)
		if err != nil || cur.State != conn.State {
			return err // changed again meanwhile: that change's hook decides
		}
		for _, inst := range insts {
			open, err := e.hasOpenRecordError(ctx, tx, inst, class)
			if err != nil {
				return err
			}
			if open {
				continue
			}
			re := store.RecordError{TenantID: conn.TenantID, ID: "rerr_" + uuid.NewString(), InstallationID: inst.ID,
				Object: "connection", SourceID: conn.ID, Class: class, Message: truncate(conn.StateReason, 1000),
				Remediation: remedy, Status: store.RecordErrorOpen}
			if err := tx.InsertRecordError(ctx, re); err != nil {
				return err
			}
			filed = append(filed, re)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("engine: filing the outage of connection %s: %w", conn.ID, err)
	}
	for _, re := range filed {
		e.deps.Alerter.Raise(ctx, Alert{TenantID: re.TenantID, InstallationID: re.InstallationID, ConnectionID: conn.ID,
			Class: class, Message: re.Message, Remediation: remedy, RecordErrorID: re.ID, At: e.deps.Now()})
	}
	return nil
}
