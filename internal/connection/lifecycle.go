package connection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/accordhq/accord/internal/store"
)

// ErrNotPaused is returned by Resume for a connection that is not paused
// for missing scopes (an active one has nothing to resume; one that needs
// reconnecting resumes only by reconnecting).
var ErrNotPaused = errors.New("connection: not paused for missing scopes")

// AccountChangedError refuses a reconnect whose grant belongs to another
// provider account than the connection's: writes held for the old account
// must not go to another one without an explicit choice
// (Grant.AllowAccountChange).
type AccountChangedError struct {
	ConnectionID string
	Previous     string
	Got          string
}

func (e *AccountChangedError) Error() string {
	return fmt.Sprintf("connection %s belongs to provider account %q; the sign-in was for account %q", e.ConnectionID, e.Previous, e.Got)
}

// Actors of audit entries written for what Accord does on its own.
const ActorSystem = "accord"

// Config configures a Lifecycle.
type Config struct {
	// OnChange is called after every committed transition with the
	// connection as stored (never inside the transaction). Default:
	// nothing.
	OnChange func(ctx context.Context, c store.Connection)
}

// Lifecycle performs connection transitions. It is safe for concurrent use
// and cheap to build: it holds no state of its own.
type Lifecycle struct {
	st       store.Store
	onChange func(ctx context.Context, c store.Connection)
}

// New returns the Lifecycle over st; cfg may be nil.
func New(st store.Store, cfg *Config) *Lifecycle {
	l := &Lifecycle{st: st, onChange: func(context.Context, store.Connection) {}}
	if cfg != nil && cfg.OnChange != nil {
		l.onChange = cfg.OnChange
	}
	return l
}

// Entry describes a transition for the audit log. Detail must not hold
// secrets; the provider, the new state and the previous state are added.
type Entry struct {
	Actor  string
	Action string // e.g. "connection.reconnected"
	Detail map[string]any
}

func appendAudit(ctx context.Context, q store.Queries, c store.Connection, prev store.ConnectionState, e Entry) error {
	detail := map[string]any{}
	for k, v := range e.Detail {
		detail[k] = v
	}
	detail["provider"] = c.Provider
	detail["state"] = string(c.State)
	if prev != "" && prev != c.State {
		detail["previous_state"] = string(prev)
	}
	raw, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("audit detail: %w", err)
	}
	actor := e.Actor
	if actor == "" {
		actor = ActorSystem
	}
	if _, err := q.AppendAudit(ctx, store.AuditEntry{TenantID: c.TenantID, Actor: actor, Action: e.Action, Subject: c.ID, Detail: raw}); err != nil {
		return fmt.Errorf("appending audit: %w", err)
	}
	return nil
}

// Create stores a new connection and its audit entry.
func (l *Lifecycle) Create(ctx context.Context, c store.Connection, e Entry) (store.Connection, error) {
	var saved store.Connection
	err := l.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateConnection(ctx, c); err != nil {
			return err
		}
		var err error
		if saved, err = tx.GetConnection(ctx, c.TenantID, c.ID); err != nil {
			return err
		}
		return appendAudit(ctx, tx, saved, "", e)
	})
	if err != nil {
		return store.Connection{}, fmt.Errorf("creating connection: %w", err)
	}
	l.onChange(ctx, saved)
	return saved, nil
}

// Change is the transition primitive: fn gets the locked connection and
// either changes it and returns the audit Entry (the row and the entry are
// written in fn's transaction), or returns nil to write nothing. fn may
// write other rows in tx (a record error filed once per outage). changed
// reports whether a change was committed; OnChange is called when it was.
func (l *Lifecycle) Change(ctx context.Context, tenantID, id string,
	fn func(ctx context.Context, tx store.Tx, c *store.Connection) (*Entry, error),
) (c store.Connection, changed bool, err error) {
	err = l.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		c, changed, err = l.ChangeInTx(ctx, tx, tenantID, id, fn)
		return err
	})
	if err != nil {
		return store.Connection{}, false, err
	}
	if changed {
		l.onChange(ctx, c)
	}
	return c, changed, nil
}

// ChangeInTx is Change inside the caller's transaction, for a transition
// that must commit with other writes (an admin's retry queues its job in
// the same transaction). It does not call OnChange: the caller calls
// Notify after its commit when changed.
func (l *Lifecycle) ChangeInTx(ctx context.Context, tx store.Tx, tenantID, id string,
	fn func(ctx context.Context, tx store.Tx, c *store.Connection) (*Entry, error),
) (store.Connection, bool, error) {
	cur, err := tx.LockConnection(ctx, tenantID, id)
	if err != nil {
		return store.Connection{}, false, err
	}
	prev := cur.State
	e, err := fn(ctx, tx, &cur)
	if err != nil {
		return store.Connection{}, false, err
	}
	if e == nil {
		return cur, false, nil
	}
	cur.TenantID, cur.ID = tenantID, id
	if err := tx.UpdateConnection(ctx, cur); err != nil {
		return store.Connection{}, false, err
	}
	c, err := tx.GetConnection(ctx, tenantID, id)
	if err != nil {
		return store.Connection{}, false, err
	}
	return c, true, appendAudit(ctx, tx, c, prev, *e)
}

// Notify calls OnChange for a transition committed through ChangeInTx.
func (l *Lifecycle) Notify(ctx context.Context, c store.Connection) { l.onChange(ctx, c) }

// Swap stores c only if the row is still at c.Version (a credential
// refreshed from what was read): swapped is false when another writer got
// there first, and the caller re-reads. With a non-nil entry (the refresh
// also changed the state) the audit entry is written in the same
// transaction and OnChange called after the commit.
func (l *Lifecycle) Swap(ctx context.Context, c store.Connection, prev store.ConnectionState, e *Entry) (bool, error) {
	if e == nil {
		ok, err := l.st.SwapConnection(ctx, c)
		if err != nil {
			return false, fmt.Errorf("storing connection: %w", err)
		}
		return ok, nil
	}
	var saved store.Connection
	var ok bool
	err := l.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if ok, err = tx.SwapConnection(ctx, c); err != nil || !ok {
			return err
		}
		if saved, err = tx.GetConnection(ctx, c.TenantID, c.ID); err != nil {
			return err
		}
		return appendAudit(ctx, tx, saved, prev, *e)
	})
	if err != nil {
		return false, fmt.Errorf("storing connection: %w", err)
	}
	if ok {
		l.onChange(ctx, saved)
	}
	return ok, nil
}

// Pause moves an active connection to state (needs_reconnect or
// missing_scopes) with reason. A connection that is not active is left as
// it is (changed false): the first to see a failure pauses it. also, when
// not nil, runs in the same transaction after the decision, with the
// stored connection and whether this call paused it.
func (l *Lifecycle) Pause(ctx context.Context, tenantID, id string, state store.ConnectionState, reason string, e Entry,
	also func(ctx context.Context, tx store.Tx, c store.Connection, changed bool) error,
) (store.Connection, bool, error) {
	c, changed, err := l.Change(ctx, tenantID, id, func(ctx context.Context, tx store.Tx, c *store.Connection) (*Entry, error) {
		if c.State != store.ConnectionActive {
			if also != nil {
				return nil, also(ctx, tx, *c, false)
			}
			return nil, nil
		}
		c.State, c.StateReason = state, reason
		if also != nil {
			if err := also(ctx, tx, *c, true); err != nil {
				return nil, err
			}
		}
		if e.Action == "" {
			e.Action = "connection." + string(state)
		}
		return &e, nil
	})
	if err != nil {
		return store.Connection{}, false, fmt.Errorf("pausing connection: %w", err)
	}
	return c, changed, nil
}

// Resume lifts a missing_scopes pause (an admin retrying says the scope is
// back; if it is not, the next write pauses it again). A connection that
// needs reconnecting is refused with ErrNotPaused: only reconnecting
// fixes it. An active connection is left as it is (changed false).
func (l *Lifecycle) Resume(ctx context.Context, tenantID, id, actor string) (store.Connection, bool, error) {
	return l.Change(ctx, tenantID, id, resume(actor))
}

// ResumeInTx is Resume inside the caller's transaction (see ChangeInTx).
func (l *Lifecycle) ResumeInTx(ctx context.Context, tx store.Tx, tenantID, id, actor string) (store.Connection, bool, error) {
	return l.ChangeInTx(ctx, tx, tenantID, id, resume(actor))
}

func resume(actor string) func(ctx context.Context, tx store.Tx, c *store.Connection) (*Entry, error) {
	return func(ctx context.Context, tx store.Tx, c *store.Connection) (*Entry, error) {
		switch c.State {
		case store.ConnectionActive:
			return nil, nil
		case store.ConnectionMissingScopes:
			c.State, c.StateReason = store.ConnectionActive, ""
			return &Entry{Actor: actor, Action: "connection.resumed"}, nil
		default:
			return nil, fmt.Errorf("%w: connection %s is %s", ErrNotPaused, c.ID, c.State)
		}
	}
}

// Grant is a new credential for an existing connection.
type Grant struct {
	Secret         []byte // sealed by the vault
	GrantedScopes  []string
	TokenExpiresAt time.Time
	// AccountID is the provider account the credential belongs to; empty
	// when the provider does not say (then it is not compared).
	AccountID string
	// AllowAccountChange accepts a grant for another account than the
	// connection's.
	AllowAccountChange bool
	State              store.ConnectionState // active or missing_scopes
	Reason             string
}

// Reconnect stores a new credential in place (same id, so work paused on
// the connection resumes), from any state, disconnected included. A grant
// for another provider account is refused with *AccountChangedError unless
// g.AllowAccountChange; the audit entry names both accounts.
func (l *Lifecycle) Reconnect(ctx context.Context, tenantID, id, actor string, g Grant) (store.Connection, error) {
	c, _, err := l.Change(ctx, tenantID, id, func(ctx context.Context, tx store.Tx, c *store.Connection) (*Entry, error) {
		prevAccount := c.AccountID
		if prevAccount != "" && g.AccountID != "" && prevAccount != g.AccountID && !g.AllowAccountChange {
			return nil, &AccountChangedError{ConnectionID: c.ID, Previous: prevAccount, Got: g.AccountID}
		}
		detail := map[string]any{"granted_scopes": g.GrantedScopes}
		if g.AccountID != "" {
			detail["account_id"] = g.AccountID
			if prevAccount != "" && prevAccount != g.AccountID {
				detail["previous_account_id"] = prevAccount
				detail["account_changed"] = true
			}
			c.AccountID = g.AccountID
		}
		state := g.State
		if state == "" {
			state = store.ConnectionActive
		}
		c.State, c.StateReason, c.Secret, c.GrantedScopes, c.TokenExpiresAt = state, g.Reason, g.Secret, g.GrantedScopes, g.TokenExpiresAt
		return &Entry{Actor: actor, Action: "connection.reconnected", Detail: detail}, nil
	})
	if err != nil {
		return store.Connection{}, fmt.Errorf("reconnecting: %w", err)
	}
	return c, nil
}

// Disconnect marks the connection disconnected and wipes its secret, and
// in the same transaction cancels its open reconnect links and the
// sign-ins in progress for it: a link issued before the disconnect can
// never revive it.
func (l *Lifecycle) Disconnect(ctx context.Context, tenantID, id, actor string, detail map[string]any) (store.Connection, error) {
	c, err := l.disconnect(ctx, tenantID, id, actor, "connection.disconnected", "", false, detail, nil)
	if err != nil {
		return store.Connection{}, fmt.Errorf("disconnecting: %w", err)
	}
	return c, nil
}

// Disconnecting is Disconnect for a connection whose partner-side cleanup
// is still to come (its webhook subscriptions could not be deleted yet):
// the connection is disconnected at once (no intake, no writes, links
// cancelled) but keeps its secret, which that cleanup authenticates with;
// Disconnect wipes it when the cleanup is over. reason is added to the
// state reason; also runs in the same transaction (queue the cleanup
// there, so it cannot be lost).
func (l *Lifecycle) Disconnecting(ctx context.Context, tenantID, id, actor, reason string, detail map[string]any,
	also func(ctx context.Context, tx store.Tx) error,
) (store.Connection, error) {
	c, err := l.disconnect(ctx, tenantID, id, actor, "connection.disconnecting", reason, true, detail, also)
	if err != nil {
		return store.Connection{}, fmt.Errorf("disconnecting: %w", err)
	}
	return c, nil
}

func (l *Lifecycle) disconnect(ctx context.Context, tenantID, id, actor, action, reason string, keepSecret bool, detail map[string]any,
	also func(ctx context.Context, tx store.Tx) error,
) (store.Connection, error) {
	c, _, err := l.Change(ctx, tenantID, id, func(ctx context.Context, tx store.Tx, c *store.Connection) (*Entry, error) {
		links, err := tx.DeleteConnectSessionsForConnection(ctx, tenantID, id)
		if err != nil {
			return nil, err
		}
		flows, err := tx.DeleteOAuthStatesForConnection(ctx, tenantID, id)
		if err != nil {
			return nil, err
		}
		d := map[string]any{"cancelled_links": links, "cancelled_sign_ins": flows}
		for k, v := range detail {
			d[k] = v
		}
		c.State, c.StateReason = store.ConnectionDisconnected, "Disconnected by "+actor+"."
		if reason != "" {
			c.StateReason += " " + reason
		}
		if !keepSecret {
			c.Secret, c.TokenExpiresAt = nil, time.Time{}
		}
		if also != nil {
			if err := also(ctx, tx); err != nil {
				return nil, err
			}
		}
		return &Entry{Actor: actor, Action: action, Detail: d}, nil
	})
	return c, err
}
