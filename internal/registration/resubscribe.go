package registration

import (
	"context"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/accordhq/accord/internal/store"
)

// KindResubscribe is the job that subscribes a reconnected connection
// to its partner's webhooks again.
const KindResubscribe = "accord_resubscribe"

// ResubscribeArgs are the arguments of a KindResubscribe job.
type ResubscribeArgs struct {
	TenantID     string `json:"tenant_id"`
	ConnectionID string `json:"connection_id"`
}

// Kind returns KindResubscribe.
func (ResubscribeArgs) Kind() string { return KindResubscribe }

// InsertOpts: one job per connection at a time; a later reconnect queues
// a new one (a finished job does not count).
func (ResubscribeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 20, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: unfinished}}
}

// unfinished are the job states in which a job counts as a duplicate.
var unfinished = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled}

// Resubscribe makes sure an active connection is subscribed to the events
// of the installations that use it (not uninstalled), as installing them
// did: after a disconnect deleted its subscription and a reconnect revived
// the connection, its webhooks flow again. A connection already subscribed
// is left alone (Register is idempotent); one not active, or whose
// provider declares no webhooks.registration, has nothing to do.
func (r *Registrar) Resubscribe(ctx context.Context, tenantID, connID, actor string) (Result, error) {
	conn, err := r.deps.Store.GetConnection(ctx, tenantID, connID)
	if err != nil {
		return Result{}, fmt.Errorf("registration: connection %s: %w", connID, err)
	}
	p, ok := r.deps.Providers(conn.Provider)
	if conn.State != store.ConnectionActive || !ok || !Declared(p) || r.deps.Contract == nil {
		return Result{}, nil
	}
	ins, err := r.deps.Store.ListInstallationsByConnection(ctx, tenantID, connID)
	if err != nil {
		return Result{}, fmt.Errorf("registration: installations of %s: %w", connID, err)
	}
	var events []string
	for _, in := range ins {
		if in.State == store.InstallationUninstalled {
			continue
		}
		c, ok := r.deps.Contract(in.Contract, in.ContractVersion)
		if !ok {
			continue
		}
		for provider, id := range in.Connections {
			if id == connID && provider == conn.Provider {
				events = union(events, Events(c, provider))
			}
		}
	}
	if len(events) == 0 {
		return Result{}, nil
	}
	return r.Register(ctx, tenantID, connID, events, actor)
}

type resubscribeWorker struct {
	river.WorkerDefaults[ResubscribeArgs]
	r *Registrar
}

// Work resubscribes; a refusal that waiting will not fix is logged and
// the job ends (the connection's audit log has the registration attempt).
func (w *resubscribeWorker) Work(ctx context.Context, job *river.Job[ResubscribeArgs]) error {
	_, err := w.r.Resubscribe(ctx, job.Args.TenantID, job.Args.ConnectionID, "accord")
	if err == nil || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if temporary(err) {
		return err
	}
	w.r.deps.Logger.WarnContext(ctx, "could not subscribe the reconnected connection to its partner's webhooks",
		"tenant_id", job.Args.TenantID, "connection_id", job.Args.ConnectionID, "error", err)
	return nil
}
