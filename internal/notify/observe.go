package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/accordhq/accord/internal/store"
)

// Signal wakes the Relay after a transaction wrote deliveries. One value
// is shared by Observe and the Relay; its zero value is not usable: make
// it with NewSignal.
type Signal chan struct{}

// NewSignal returns a Signal.
func NewSignal() Signal { return make(Signal, 1) }

func (s Signal) wake() {
	select {
	case s <- struct{}{}:
	default:
	}
}

// Observe returns st with the writes of notified state caught: a
// transaction that changes a connection's state, an installation's
// (paused, resumed, uninstalled) or a record error's (opened, resolved)
// also stores a pending delivery for every endpoint of the tenant that
// wants that event, in the same transaction; sig is woken after the
// commit. Every other call goes to st unchanged. now defaults to
// time.Now.
func Observe(st store.Store, sig Signal, now func() time.Time) store.Store {
	if now == nil {
		now = time.Now
	}
	return &observed{Store: st, sig: sig, now: now}
}

type observed struct {
	store.Store
	sig Signal
	now func() time.Time
}

var _ store.Store = (*observed)(nil)

func (s *observed) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	wrote := false
	err := s.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return fn(ctx, &observedTx{Tx: tx, now: s.now, wrote: &wrote})
	})
	if err == nil && wrote && s.sig != nil {
		s.sig.wake()
	}
	return err
}

// The notified writes made outside a transaction get one, so that the
// change and its deliveries commit together.

func (s *observed) UpdateConnection(ctx context.Context, c store.Connection) error {
	return s.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return tx.UpdateConnection(ctx, c) })
}

func (s *observed) SwapConnection(ctx context.Context, c store.Connection) (swapped bool, err error) {
	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		swapped, err = tx.SwapConnection(ctx, c)
		return err
	})
	return swapped, err
}

func (s *observed) SetInstallationState(ctx context.Context, tenantID, id string, state store.InstallationState) error {
	return s.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return tx.SetInstallationState(ctx, tenantID, id, state) })
}

func (s *observed) InsertRecordError(ctx context.Context, e store.RecordError) error {
	return s.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return tx.InsertRecordError(ctx, e) })
}

func (s *observed) SetRecordErrorStatus(ctx context.Context, tenantID, id string, status store.RecordErrorStatus) error {
	return s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.SetRecordErrorStatus(ctx, tenantID, id, status)
	})
}

func (s *observed) PutSyncState(ctx context.Context, st store.SyncState) error {
	return s.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return tx.PutSyncState(ctx, st) })
}

func (s *observed) SetPartnerStatus(ctx context.Context, ps store.PartnerStatus) (changed bool, err error) {
	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		changed, err = tx.SetPartnerStatus(ctx, ps)
		return err
	})
	return changed, err
}

type observedTx struct {
	store.Tx
	now   func() time.Time
	wrote *bool
}

func (t *observedTx) UpdateConnection(ctx context.Context, c store.Connection) error {
	prev, err := t.Tx.GetConnection(ctx, c.TenantID, c.ID)
	if err != nil {
		return err
	}
	if err := t.Tx.UpdateConnection(ctx, c); err != nil {
		return err
	}
	return t.connectionChanged(ctx, prev, c)
}

func (t *observedTx) SwapConnection(ctx context.Context, c store.Connection) (bool, error) {
	prev, err := t.Tx.GetConnection(ctx, c.TenantID, c.ID)
	if err != nil {
		return false, err
	}
	ok, err := t.Tx.SwapConnection(ctx, c)
	if err != nil || !ok {
		return ok, err
	}
	return true, t.connectionChanged(ctx, prev, c)
}

func (t *observedTx) connectionChanged(ctx context.Context, prev, c store.Connection) error {
	if prev.State == c.State {
		return nil
	}
	return t.emit(ctx, c.TenantID, ConnectionStateChanged, ConnectionData{ConnectionID: c.ID, Provider: prev.Provider,
		State: string(c.State), PreviousState: string(prev.State)})
}

func (t *observedTx) SetInstallationState(ctx context.Context, tenantID, id string, state store.InstallationState) error {
	prev, err := t.Tx.GetInstallation(ctx, tenantID, id)
	if err != nil {
		return err
	}
	if err := t.Tx.SetInstallationState(ctx, tenantID, id, state); err != nil {
		return err
	}
	if prev.State == state {
		return nil
	}
	var typ string
	switch {
	case state == store.InstallationPaused:
		typ = InstallationPaused
	case state == store.InstallationActive && prev.State == store.InstallationPaused:
		typ = InstallationResumed
	case state == store.InstallationUninstalled:
		typ = InstallationUninstalled
	default:
		return nil
	}
	return t.emit(ctx, tenantID, typ, InstallationData{InstallationID: id, Contract: prev.Contract, State: string(state),
		PreviousState: string(prev.State)})
}

func (t *observedTx) InsertRecordError(ctx context.Context, e store.RecordError) error {
	if err := t.Tx.InsertRecordError(ctx, e); err != nil {
		return err
	}
	if e.Status != store.RecordErrorOpen && e.Status != "" {
		return nil
	}
	return t.emit(ctx, e.TenantID, RecordErrorOpened, RecordErrorData{RecordErrorID: e.ID, InstallationID: e.InstallationID,
		Object: e.Object, Class: e.Class, Status: string(store.RecordErrorOpen)})
}

func (t *observedTx) SetRecordErrorStatus(ctx context.Context, tenantID, id string, status store.RecordErrorStatus) error {
	prev, err := t.Tx.GetRecordError(ctx, tenantID, id)
	if err != nil {
		return err
	}
	if err := t.Tx.SetRecordErrorStatus(ctx, tenantID, id, status); err != nil {
		return err
	}
	var typ string
	switch {
	case status == store.RecordErrorOpen && prev.Status != store.RecordErrorOpen:
		typ = RecordErrorOpened
	case status == store.RecordErrorResolved && prev.Status != store.RecordErrorResolved:
		typ = RecordErrorResolved
	default:
		return nil
	}
	return t.emit(ctx, tenantID, typ, RecordErrorData{RecordErrorID: id, InstallationID: prev.InstallationID,
		Object: prev.Object, Class: prev.Class, Status: string(status)})
}

func (t *observedTx) PutSyncState(ctx context.Context, st store.SyncState) error {
	prev, err := t.Tx.GetSyncState(ctx, st.TenantID, st.InstallationID, st.Trigger)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := t.Tx.PutSyncState(ctx, st); err != nil {
		return err
	}
	if st.Runs <= prev.Runs {
		return nil
	}
	return t.emit(ctx, st.TenantID, SyncCompleted, SyncData{InstallationID: st.InstallationID, Trigger: st.Trigger,
		RecordsDone: st.RunRecords, Changes: st.RunEvents, CompletedAt: st.LastCompletedAt})
}

// SetPartnerStatus notifies a recorded transition (only the process whose
// write changed the flag sees one, so each transition is sent once) to
// every tenant with an installation, not uninstalled, over the provider.
func (t *observedTx) SetPartnerStatus(ctx context.Context, ps store.PartnerStatus) (bool, error) {
	changed, err := t.Tx.SetPartnerStatus(ctx, ps)
	if err != nil || !changed {
		return changed, err
	}
	typ, data := PartnerRecovered, PartnerData{Provider: ps.Provider, Status: "healthy", ChangedAt: ps.ChangedAt.UTC()}
	if ps.Degraded {
		typ, data.Status, data.Reason = PartnerDegraded, "degraded", ps.Reason
	}
	// Transitions are rare; a scan of the tenants' installations costs
	// nothing worth an index.
	tenants, err := t.Tx.ListTenants(ctx)
	if err != nil {
		return false, err
	}
	for _, tn := range tenants {
		ins, err := t.Tx.ListInstallations(ctx, tn.ID)
		if err != nil {
			return false, err
		}
		if !slices.ContainsFunc(ins, func(in store.Installation) bool {
			_, uses := in.Connections[ps.Provider]
			return uses && in.State != store.InstallationUninstalled
		}) {
			continue
		}
		if err := t.emit(ctx, tn.ID, typ, data); err != nil {
			return false, err
		}
	}
	return true, nil
}

// emit stores one pending delivery per endpoint of the tenant that wants
// typ.
func (t *observedTx) emit(ctx context.Context, tenantID, typ string, data any) error {
	eps, err := t.Tx.ListNotifyEndpoints(ctx, tenantID)
	if err != nil || len(eps) == 0 {
		return err
	}
	now := t.now().UTC()
	payload, err := json.Marshal(Message{Type: typ, Timestamp: now, TenantID: tenantID, Data: data})
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	for _, ep := range eps {
		if !Wants(ep, typ) {
			continue
		}
		if err := t.Tx.InsertNotifyDelivery(ctx, store.NotifyDelivery{TenantID: tenantID, ID: "msg_" + uuid.NewString(),
			EndpointID: ep.ID, EventType: typ, Payload: payload, State: store.NotifyPending, CreatedAt: now}); err != nil {
			return fmt.Errorf("notify: storing delivery: %w", err)
		}
		*t.wrote = true
	}
	return nil
}

// Wants reports whether ep is sent events of type typ.
func Wants(ep store.NotifyEndpoint, typ string) bool {
	return len(ep.EventTypes) == 0 || slices.Contains(ep.EventTypes, typ)
}
