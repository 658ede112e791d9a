package uninstall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/store"
)

// Worker runs uninstall jobs.
type Worker struct {
	river.WorkerDefaults[Args]
	u *Uninstaller
}

// Register adds the uninstall worker to reg.
func (u *Uninstaller) Register(reg *queue.Registry) error {
	if err := queue.AddWorker(reg, river.Worker[Args](&Worker{u: u})); err != nil {
		return fmt.Errorf("uninstall: %w", err)
	}
	return nil
}

// Work runs the steps left, from the one stored. It keeps the queue's job
// timeout (at most its rescue delay, so a rescued job never runs beside a
// live one): a purge cut short resumes where it was, each batch being its
// own transaction.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	return w.u.Run(ctx, job.Args.TenantID, job.Args.InstallationID)
}

// Run runs the uninstall's remaining steps. Before the retention has
// passed it stops at retain and returns a snooze until then (the job comes
// back); an error leaves the step to run again.
func (u *Uninstaller) Run(ctx context.Context, tenantID, installationID string) error {
	un, err := u.st.GetUninstall(ctx, tenantID, installationID)
	if errors.Is(err, store.ErrNotFound) {
		return queue.Cancel(fmt.Errorf("uninstall of %s not found", installationID))
	}
	if err != nil {
		return err
	}
	results, err := Results(un)
	if err != nil {
		return err
	}
	for un.Step != StepDone {
		if un.Step == StepRetain {
			if wait := un.PurgeAfter.Sub(u.cfg.Now()); wait > 0 {
				if un.State != store.UninstallRetaining {
					un.State = store.UninstallRetaining
					if err := u.st.UpdateUninstall(ctx, un); err != nil {
						return err
					}
				}
				return queue.Snooze(wait)
			}
		}
		res, err := u.run(ctx, un, results)
		if err != nil {
			return fmt.Errorf("uninstall %s: %s: %w", installationID, un.Step, err)
		}
		res.Step, res.At = un.Step, u.cfg.Now().UTC()
		results = append(results, res)
		raw, err := json.Marshal(results)
		if err != nil {
			return err
		}
		step := un.Step
		un.Steps, un.Step, un.State = raw, next(un.Step), store.UninstallRunning
		if un.Step == StepDone {
			un.State = store.UninstallDone
		}
		detail := map[string]any{"step": step, "count": res.Count}
		if res.Connections != nil {
			detail["connections"] = res.Connections
		}
		if res.Failed != nil {
			detail["failed"] = res.Failed
		}
		action := "installation.uninstall_step"
		if un.Step == StepDone {
			action, detail["steps"] = "installation.uninstalled", results
		}
		err = u.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			if err := tx.UpdateUninstall(ctx, un); err != nil {
				return err
			}
			return audit(ctx, tx, tenantID, un.Actor, action, installationID, detail)
		})
		if err != nil {
			return fmt.Errorf("uninstall %s: recording %s: %w", installationID, step, err)
		}
		if err := u.afterStep(step); err != nil {
			return err
		}
	}
	u.cfg.Logger.InfoContext(ctx, "installation uninstalled", "tenant_id", tenantID, "installation_id", installationID)
	return nil
}

// retryable reports whether a deregistration may work later unchanged: an
// error that says it is not (Retryable() false) is permanent; any other
// (the store, the vault) is retried.
func retryable(err error) bool {
	var r interface{ Temporary() bool }
	if errors.As(err, &r) {
		return r.Temporary()
	}
	return true
}

// connections returns the connections the uninstall ends, as stop_intake
// recorded them.
func connections(results []StepResult) []string {
	for _, r := range results {
		if r.Step == StepStopIntake {
			return r.Connections
		}
	}
	return nil
}

func (u *Uninstaller) run(ctx context.Context, un store.Uninstall, results []StepResult) (StepResult, error) {
	tenantID, instID := un.TenantID, un.InstallationID
	conns := connections(results)
	switch un.Step {
	case StepStopIntake:
		// The installation is uninstalled since Start; what is left is to
		// find the connections no other installation uses.
		ids, err := u.exclusive(ctx, tenantID, instID)
		if err != nil {
			return StepResult{}, err
		}
		return StepResult{Count: len(ids), Connections: ids}, nil
	case StepCancelJobs:
		n := 0
		for _, c := range conns {
			for _, kind := range u.cfg.JobKinds {
				k, err := u.queue.CancelJobs(ctx, kind, map[string]string{"tenant_id": tenantID, "connection_id": c})
				n += k
				if err != nil {
					return StepResult{}, err
				}
			}
		}
		return StepResult{Count: n}, nil
	case StepDeregisterHooks:
		var res StepResult
		if u.cfg.Webhooks == nil {
			return res, nil
		}
		for _, id := range conns {
			deleted, err := u.cfg.Webhooks.Deregister(ctx, tenantID, id, un.Actor)
			if err != nil {
				if retryable(err) {
					return StepResult{}, err
				}
				// Waiting will not help (credentials refused, the partner
				// rejects the call): say so where the uninstall is
				// followed, and revoke the tokens all the same.
				res.Failed = append(res.Failed, id+": "+err.Error())
				u.cfg.Logger.WarnContext(ctx, "webhook subscription could not be deleted at the partner", "tenant_id", tenantID,
					"connection_id", id, "error", err)
				continue
			}
			if deleted {
				res.Count++
			}
		}
		return res, nil
	case StepRevokeTokens:
		var res StepResult
		for _, id := range conns {
			c, err := u.st.GetConnection(ctx, tenantID, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return StepResult{}, err
			}
			if c.State == store.ConnectionDisconnected && len(c.Secret) == 0 {
				continue // done before a crash, or by an admin
			}
			revoked, err := u.disc.Disconnect(ctx, tenantID, id, un.Actor)
			if err != nil {
				return StepResult{}, err
			}
			res.Count++
			if revoked {
				res.Revoked++
			}
		}
		return res, nil
	case StepRetain:
		return StepResult{}, nil
	case StepPurgeEvents:
		n := 0
		for _, c := range conns {
			k, err := u.purge(ctx, func(limit int) (int, error) {
				return u.st.DeleteEventsForConnection(ctx, tenantID, c, limit)
			})
			n += k
			if err != nil {
				return StepResult{}, err
			}
		}
		return StepResult{Count: n}, nil
	case StepPurgeLinks:
		n, err := u.purge(ctx, func(limit int) (int, error) { return u.st.DeleteLinksForInstallation(ctx, tenantID, instID, limit) })
		return StepResult{Count: n}, err
	case StepPurgeRecordErrors:
		n, err := u.purge(ctx, func(limit int) (int, error) {
			return u.st.DeleteRecordErrorsForInstallation(ctx, tenantID, instID, limit)
		})
		return StepResult{Count: n}, err
	case StepDeleteRows:
		n := 0
		if err := u.st.DeleteInstallation(ctx, tenantID, instID); err == nil {
			n++
		} else if !errors.Is(err, store.ErrNotFound) {
			return StepResult{}, err
		}
		for _, c := range conns {
			// A connection another installation took up meanwhile stays.
			users, err := u.st.ListInstallationsByConnection(ctx, tenantID, c)
			if err != nil {
				return StepResult{}, err
			}
			if len(users) > 0 {
				continue
			}
			if err := u.st.DeleteConnection(ctx, tenantID, c); err == nil {
				n++
			} else if !errors.Is(err, store.ErrNotFound) {
				return StepResult{}, err
			}
		}
		return StepResult{Count: n}, nil
	}
	return StepResult{}, fmt.Errorf("unknown step %q", un.Step)
}

// exclusive returns the installation's connections that no other
// installation of the tenant (not itself uninstalled) uses.
func (u *Uninstaller) exclusive(ctx context.Context, tenantID, instID string) ([]string, error) {
	in, err := u.st.GetInstallation(ctx, tenantID, instID)
	if err != nil {
		return nil, err
	}
	ids := []string{}
	seen := map[string]bool{}
	for _, c := range in.Connections {
		if seen[c] {
			continue
		}
		seen[c] = true
		users, err := u.st.ListInstallationsByConnection(ctx, tenantID, c)
		if err != nil {
			return nil, err
		}
		shared := false
		for _, o := range users {
			if o.ID != instID && o.State != store.InstallationUninstalled {
				shared = true
			}
		}
		if !shared {
			ids = append(ids, c)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// purge calls del until a batch comes back short.
func (u *Uninstaller) purge(ctx context.Context, del func(limit int) (int, error)) (int, error) {
	total := 0
	for {
		n, err := del(u.cfg.BatchSize)
		total += n
		if err != nil || n < u.cfg.BatchSize {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}
