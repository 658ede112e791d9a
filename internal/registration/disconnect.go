package registration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/connection"
	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/store"
)

// KindDisconnect is the job that finishes a disconnect whose webhook
// subscriptions the partner could not delete at once.
const KindDisconnect = "accord_disconnect"

// ErrNoEnder is returned by Disconnect when the Registrar was built
// without Deps.Ender and Deps.Queue.
var ErrNoEnder = errors.New("registration: disconnecting needs Deps.Ender and Deps.Queue")

// Ender ends a connection (oauth.Manager): revokes its tokens at the
// provider where it can, wipes its secret and marks it disconnected, with
// its audit entry. revoked is false when nothing was revoked.
type Ender interface {
	Disconnect(ctx context.Context, tenantID, connectionID, actor string) (revoked bool, err error)
}

// Queue is the part of the job queue the Registrar uses.
type Queue interface {
	// InsertTx queues a job in tx: it runs only if tx commits.
	InsertTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, error)
}

// DisconnectResult says what Disconnect did.
type DisconnectResult struct {
	// RevokedAtProvider: the provider confirmed the tokens revoked.
	RevokedAtProvider bool `json:"revoked_at_provider"`
	// WebhooksDeleted: Accord's webhook subscriptions were deleted at the
	// partner.
	WebhooksDeleted bool `json:"webhooks_deleted,omitempty"`
	// WebhooksPending: the partner could not be reached. The connection
	// is disconnected; Accord deletes the subscriptions in the background
	// as soon as the partner answers, then revokes the tokens.
	WebhooksPending bool `json:"webhooks_pending,omitempty"`
	// WebhooksError: the partner refused the deletion for good (it is in
	// the audit log too); an admin removes the subscription at the
	// partner. Never holds a secret.
	WebhooksError string `json:"webhooks_error,omitempty"`
}

// DisconnectArgs are the arguments of a KindDisconnect job.
type DisconnectArgs struct {
	TenantID     string `json:"tenant_id"`
	ConnectionID string `json:"connection_id"`
	Actor        string `json:"actor"`
}

// Kind returns KindDisconnect.
func (DisconnectArgs) Kind() string { return KindDisconnect }

// InsertOpts: one unfinished job per connection (a later disconnect,
// after a reconnect, queues its own); 20 attempts under the queue's
// default backoff (doubling from 1 s, capped at an hour) span about eight
// hours of partner outage before Accord gives up, audits it, and revokes
// the tokens anyway.
func (DisconnectArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 20, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: unfinished}}
}

// Disconnect ends a connection the way an admin asks for it: its webhook
// subscriptions are deleted at the partner first (deleting needs the
// credential), then its tokens revoked and its secret wiped (Ender).
//
// When the partner cannot be reached, the connection is disconnected at
// once but keeps its credential, and a KindDisconnect job, queued in the
// same transaction, finishes the work when the partner answers. When the
// partner refuses the deletion for good (the credential is refused, the
// connection lacks the permission) the refusal is audited and returned in
// WebhooksError, and the connection is disconnected all the same.
func (r *Registrar) Disconnect(ctx context.Context, tenantID, connID, actor string) (DisconnectResult, error) {
	if r.deps.Ender == nil || r.deps.Queue == nil {
		return DisconnectResult{}, ErrNoEnder
	}
	var res DisconnectResult
	deleted, err := r.Deregister(ctx, tenantID, connID, actor)
	switch {
	case err == nil:
		res.WebhooksDeleted = deleted
	case errors.Is(err, store.ErrNotFound):
		return DisconnectResult{}, err
	case temporary(err):
		args := DisconnectArgs{TenantID: tenantID, ConnectionID: connID, Actor: actor}
		if _, err2 := r.life.Disconnecting(ctx, tenantID, connID, actor,
			"Its webhook subscription at the partner is deleted, and its tokens revoked, once the partner answers.",
			map[string]any{"webhooks_pending": true, "error": err.Error()},
			func(ctx context.Context, tx store.Tx) error {
				_, err := r.deps.Queue.InsertTx(ctx, tx, args, nil)
				return err
			}); err2 != nil {
			return DisconnectResult{}, err2
		}
		r.deps.Logger.WarnContext(ctx, "the partner could not delete the webhook subscription; retrying in the background",
			"tenant_id", tenantID, "connection_id", connID, "error", err)
		return DisconnectResult{WebhooksPending: true}, nil
	default:
		if aerr := r.auditFailure(ctx, tenantID, connID, actor, err); aerr != nil {
			return DisconnectResult{}, aerr
		}
		res.WebhooksError = err.Error()
	}
	if res.RevokedAtProvider, err = r.deps.Ender.Disconnect(ctx, tenantID, connID, actor); err != nil {
		return DisconnectResult{}, err
	}
	return res, nil
}

// temporary reports whether a deregistration may work later unchanged:
// a registration Error says; anything else (the store, the vault) is
// retried.
func temporary(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Retryable
	}
	return !errors.Is(err, ErrNotDeclared)
}

// auditFailure records that the partner refused, for good, to delete the
// connection's subscription: the audit log is where an admin finds what
// to remove by hand.
func (r *Registrar) auditFailure(ctx context.Context, tenantID, connID, actor string, cause error) error {
	_, _, err := r.life.Change(ctx, tenantID, connID, func(ctx context.Context, tx store.Tx, c *store.Connection) (*connection.Entry, error) {
		return nil, appendFailure(ctx, tx, *c, actor, cause)
	})
	if err != nil {
		return fmt.Errorf("registration: recording the failed deregistration: %w", err)
	}
	r.deps.Logger.WarnContext(ctx, "webhook subscription could not be deleted at the partner", "tenant_id", tenantID,
		"connection_id", connID, "error", cause)
	return nil
}

func appendFailure(ctx context.Context, tx store.Tx, c store.Connection, actor string, cause error) error {
	raw, err := json.Marshal(map[string]any{"provider": c.Provider, "error": cause.Error(),
		"remedy": "delete the webhook subscription pointing at /hooks/" + c.ID + " in the partner's settings"})
	if err != nil {
		return err
	}
	if actor == "" {
		actor = connection.ActorSystem
	}
	_, err = tx.AppendAudit(ctx, store.AuditEntry{TenantID: c.TenantID, Actor: actor,
		Action: "connection.webhooks_deregister_failed", Subject: c.ID, Detail: raw})
	return err
}

// disconnectWorker finishes disconnects (KindDisconnect).
type disconnectWorker struct {
	river.WorkerDefaults[DisconnectArgs]
	r *Registrar
}

// Work deletes the subscriptions, then ends the connection. A connection
// reconnected meanwhile is left alone: it uses its subscription again. A
// partner still unreachable on the last attempt is given up on (audited),
// and the tokens are revoked all the same.
func (w *disconnectWorker) Work(ctx context.Context, job *river.Job[DisconnectArgs]) error {
	a := job.Args
	conn, err := w.r.deps.Store.GetConnection(ctx, a.TenantID, a.ConnectionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if conn.State != store.ConnectionDisconnected || len(conn.Secret) == 0 {
		return nil
	}
	if _, err := w.r.Deregister(ctx, a.TenantID, a.ConnectionID, a.Actor); err != nil {
		if temporary(err) && job.Attempt < job.MaxAttempts {
			return err
		}
		if aerr := w.r.auditFailure(ctx, a.TenantID, a.ConnectionID, a.Actor, err); aerr != nil {
			return aerr
		}
	}
	if _, err := w.r.deps.Ender.Disconnect(ctx, a.TenantID, a.ConnectionID, a.Actor); err != nil {
		return fmt.Errorf("registration: ending connection %s: %w", a.ConnectionID, err)
	}
	return nil
}

// RegisterJobs adds the Registrar's jobs to reg.
func (r *Registrar) RegisterJobs(reg *queue.Registry) error {
	if err := queue.AddWorker(reg, river.Worker[DisconnectArgs](&disconnectWorker{r: r})); err != nil {
		return fmt.Errorf("registration: %w", err)
	}
	if err := queue.AddWorker(reg, river.Worker[ResubscribeArgs](&resubscribeWorker{r: r})); err != nil {
		return fmt.Errorf("registration: %w", err)
	}
	return nil
}
