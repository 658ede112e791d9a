package uninstall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// Kind is the job kind of an uninstall.
const Kind = "accord_uninstall"

// DefaultRetention is how long an uninstalled installation's data is kept
// when its contract does not say.
const DefaultRetention = 30 * 24 * time.Hour

// The steps, in order.
const (
	StepStopIntake        = "stop_intake"
	StepCancelJobs        = "cancel_jobs"
	StepDeregisterHooks   = "deregister_webhooks"
	StepRevokeTokens      = "revoke_tokens"
	StepRetain            = "retain"
	StepPurgeEvents       = "purge_events"
	StepPurgeLinks        = "purge_links"
	StepPurgeRecordErrors = "purge_record_errors"
	StepDeleteRows        = "delete_rows"
	StepDone              = "done"
)

var steps = []string{StepStopIntake, StepCancelJobs, StepDeregisterHooks, StepRevokeTokens, StepRetain, StepPurgeEvents,
	StepPurgeLinks, StepPurgeRecordErrors, StepDeleteRows, StepDone}

// ErrAlreadyUninstalled is returned by Start for an installation whose
// uninstall has started already.
var ErrAlreadyUninstalled = errors.New("uninstall: installation is being or was uninstalled")

// Queue is the part of the job queue an uninstall uses.
type Queue interface {
	// InsertTx queues a job in tx: it runs only if tx commits.
	InsertTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, error)
	// CancelJobs cancels the unfinished jobs of kind whose args match
	// argEquals and returns how many.
	CancelJobs(ctx context.Context, kind string, argEquals map[string]string) (int, error)
}

// Disconnector ends a connection: it revokes its tokens at the provider
// where the provider can (RFC 7009), wipes its secret and marks it
// disconnected, with its audit entry. revoked is false when nothing was
// revoked; err only when the connection could not be disconnected.
type Disconnector interface {
	Disconnect(ctx context.Context, tenantID, connectionID, actor string) (revoked bool, err error)
}

// Deregisterer deletes the webhook subscriptions Accord registered at a
// connection's partner. deleted is false when there were none; a 404 from
// the partner is no error. An error that Retryable (below) calls
// permanent does not stop the uninstall: the step records it and the
// uninstall goes on to revoke the tokens, which ends the deliveries'
// use anyway.
type Deregisterer interface {
	Deregister(ctx context.Context, tenantID, connectionID, actor string) (deleted bool, err error)
}

// Config configures an Uninstaller. Zero values take the defaults.
type Config struct {
	// Webhooks deletes partner-side webhook subscriptions; nil: the
	// deregister_webhooks step has nothing to do.
	Webhooks Deregisterer
	// Contract returns a loaded contract version, for its retention; nil
	// or not found: DefaultRetention.
	Contract func(name, version string) (*spec.Contract, bool)
	// JobKinds are the job kinds whose args carry tenant_id and
	// connection_id, cancelled for the connections the uninstall ends
	// (deliveries, token refreshes). Default none.
	JobKinds []string
	// BatchSize is how many rows one purge statement deletes. Default 500.
	BatchSize int
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger. Default slog.Default().
	Logger *slog.Logger
}

// Uninstaller starts and runs uninstalls.
type Uninstaller struct {
	st    store.Store
	queue Queue
	disc  Disconnector
	cfg   Config
	// afterStep, in tests, runs after a step committed; an error stops the
	// job there as a crash would.
	afterStep func(step string) error
}

// New returns an Uninstaller.
func New(st store.Store, q Queue, disc Disconnector, cfg *Config) (*Uninstaller, error) {
	if st == nil || q == nil || disc == nil {
		return nil, errors.New("uninstall: store, queue and disconnector are required")
	}
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return &Uninstaller{st: st, queue: q, disc: disc, cfg: c, afterStep: func(string) error { return nil }}, nil
}

// Args are the job's arguments.
type Args struct {
	TenantID       string `json:"tenant_id"`
	InstallationID string `json:"installation_id"`
}

// Kind returns Kind.
func (Args) Kind() string { return Kind }

// InsertOpts keeps one uninstall job per installation.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 100, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Retention returns how long c keeps an uninstalled installation's data.
func Retention(c *spec.Contract) time.Duration {
	if c == nil || c.Boundaries.Retention == nil {
		return DefaultRetention
	}
	return c.Boundaries.Retention.D()
}

// Start begins uninstalling: in one transaction the installation becomes
// uninstalled (its events are no longer matched), the uninstall is
// recorded with its purge time, the audit log says who started it, and
// the job is queued. An installation already uninstalling is
// ErrAlreadyUninstalled (with its Uninstall).
func (u *Uninstaller) Start(ctx context.Context, tenantID, installationID, actor string) (store.Uninstall, error) {
	var out store.Uninstall
	err := u.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if prev, err := tx.GetUninstall(ctx, tenantID, installationID); err == nil {
			out = prev
			return ErrAlreadyUninstalled
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		in, err := tx.GetInstallation(ctx, tenantID, installationID)
		if err != nil {
			return err
		}
		retention := DefaultRetention
		if u.cfg.Contract != nil {
			if c, ok := u.cfg.Contract(in.Contract, in.ContractVersion); ok {
				retention = Retention(c)
			}
		}
		now := u.cfg.Now()
		out = store.Uninstall{TenantID: tenantID, InstallationID: installationID, Contract: in.Contract, Actor: actor,
			State: store.UninstallRunning, Step: StepStopIntake, PurgeAfter: now.Add(retention), CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateUninstall(ctx, out); err != nil {
			return err
		}
		if err := tx.SetInstallationState(ctx, tenantID, installationID, store.InstallationUninstalled); err != nil {
			return err
		}
		if err := audit(ctx, tx, tenantID, actor, "installation.uninstall_started", installationID, map[string]any{
			"contract": in.Contract, "contract_version": in.ContractVersion, "previous_state": string(in.State),
			"retention": retention.String(), "purge_after": out.PurgeAfter.UTC().Format(time.RFC3339),
		}); err != nil {
			return err
		}
		_, err = u.queue.InsertTx(ctx, tx, Args{TenantID: tenantID, InstallationID: installationID}, nil)
		return err
	})
	if err != nil {
		if errors.Is(err, ErrAlreadyUninstalled) {
			return out, err
		}
		return store.Uninstall{}, fmt.Errorf("starting uninstall: %w", err)
	}
	return out, nil
}

func audit(ctx context.Context, q store.Queries, tenantID, actor, action, subject string, detail map[string]any) error {
	raw, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	_, err = q.AppendAudit(ctx, store.AuditEntry{TenantID: tenantID, Actor: actor, Action: action, Subject: subject, Detail: raw})
	return err
}

// StepResult is one finished step in an Uninstall's Steps.
type StepResult struct {
	Step string `json:"step"`
	// Count is how many things the step removed, cancelled or revoked.
	Count int       `json:"count"`
	At    time.Time `json:"at"`
	// Connections, on stop_intake, are the connections the uninstall ends
	// (no other installation uses them).
	Connections []string `json:"connections,omitempty"`
	// Revoked, on revoke_tokens, counts the connections whose tokens the
	// provider confirmed revoked.
	Revoked int `json:"revoked,omitempty"`
	// Failed, on deregister_webhooks, says which subscriptions the partner
	// refused to delete for good (the connection and the reason): an
	// admin removes them at the partner.
	Failed []string `json:"failed,omitempty"`
}

// Results decodes an Uninstall's Steps.
func Results(u store.Uninstall) ([]StepResult, error) {
	var out []StepResult
	if len(u.Steps) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(u.Steps, &out); err != nil {
		return nil, fmt.Errorf("uninstall: steps: %w", err)
	}
	return out, nil
}

func next(step string) string {
	i := slices.Index(steps, step)
	if i < 0 || i == len(steps)-1 {
		return StepDone
	}
	return steps[i+1]
}
