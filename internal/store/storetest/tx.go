package storetest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

func testInTx(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")

	// Commit: everything written in the transaction is visible after it.
	err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		require.NotNil(t, tx.Driver())
		ins, err := tx.InsertEvent(ctx, store.Event{TenantID: "t1", ID: "evt_c", ConnectionID: f.conn.ID,
			DedupKey: "c", Type: "x"})
		require.NoError(t, err)
		require.True(t, ins)
		got, err := tx.GetEvent(ctx, "t1", "evt_c")
		require.NoError(t, err, "a transaction reads its own writes")
		require.Equal(t, "c", got.DedupKey)
		_, err = tx.AppendAudit(ctx, store.AuditEntry{TenantID: "t1", Actor: "a", Action: "in_tx"})
		return err
	})
	require.NoError(t, err)
	_, err = s.GetEvent(ctx, "t1", "evt_c")
	require.NoError(t, err)

	// Error: fn's error comes back as is, and nothing stays.
	errBoom := errors.New("boom")
	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		writeAll(t, ctx, tx, f, "err")
		return errBoom
	})
	require.ErrorIs(t, err, errBoom)
	requireRolledBack(t, s, f, "err")

	// Panic: rolled back, and the panic reaches the caller.
	require.PanicsWithValue(t, "kaboom", func() {
		_ = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			writeAll(t, ctx, tx, f, "panic")
			panic("kaboom")
		})
	})
	requireRolledBack(t, s, f, "panic")

	// A store error inside the transaction can be handled by fn, which
	// then commits the rest.
	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.GetConnection(ctx, "t1", "conn_missing")
		require.ErrorIs(t, err, store.ErrNotFound)
		return tx.SetInstallationState(ctx, "t1", f.inst.ID, store.InstallationPaused)
	})
	require.NoError(t, err)
	inst, err := s.GetInstallation(ctx, "t1", f.inst.ID)
	require.NoError(t, err)
	require.Equal(t, store.InstallationPaused, inst.State)

	// The store still works after all that (the writer was released).
	_, err = s.AppendAudit(ctx, store.AuditEntry{TenantID: "t1", Actor: "a", Action: "after"})
	require.NoError(t, err)
	audit, err := s.ListAudit(ctx, "t1", 0, 100)
	require.NoError(t, err)
	require.Len(t, audit, 2, "only committed audit entries")
	require.NoError(t, store.VerifyAuditChain(audit))
}

// writeAll writes one row of most kinds in tx, named after suffix.
func writeAll(t *testing.T, ctx context.Context, tx store.Tx, f fixture, suffix string) {
	t.Helper()
	require.NoError(t, tx.CreateTenant(ctx, store.Tenant{ID: "t_" + suffix, Name: "rolled back"}))
	require.NoError(t, tx.CreateConnection(ctx, store.Connection{TenantID: "t_" + suffix, ID: "conn_" + suffix,
		Provider: "p", State: store.ConnectionActive}))
	_, err := tx.InsertEvent(ctx, store.Event{TenantID: "t1", ID: "evt_" + suffix, ConnectionID: f.conn.ID,
		DedupKey: suffix, Type: "x"})
	require.NoError(t, err)
	require.NoError(t, tx.SetInstallationState(ctx, "t1", f.inst.ID, store.InstallationPaused))
	require.NoError(t, tx.UpsertLink(ctx, store.Link{LinkKey: store.LinkKey{TenantID: "t1", InstallationID: f.inst.ID,
		SourceObject: "ticket", SourceID: suffix, TargetObject: "incident"}, TargetID: "x"}))
	require.NoError(t, tx.CreateOAuthState(ctx, store.OAuthState{State: "st_" + suffix, TenantID: "t1",
		Provider: "p", ExpiresAt: at(0)}))
	_, err = tx.AppendAudit(ctx, store.AuditEntry{TenantID: "t1", Actor: "a", Action: "rolled_back"})
	require.NoError(t, err)
}

func requireRolledBack(t *testing.T, s store.Store, f fixture, suffix string) {
	t.Helper()
	ctx := context.Background()
	_, err := s.GetTenant(ctx, "t_"+suffix)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.LookupConnection(ctx, "conn_"+suffix)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.GetEvent(ctx, "t1", "evt_"+suffix)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.GetLink(ctx, store.LinkKey{TenantID: "t1", InstallationID: f.inst.ID, SourceObject: "ticket",
		SourceID: suffix, TargetObject: "incident"})
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.ConsumeOAuthState(ctx, "st_"+suffix)
	require.ErrorIs(t, err, store.ErrNotFound)
	inst, err := s.GetInstallation(ctx, "t1", f.inst.ID)
	require.NoError(t, err)
	require.Equal(t, f.inst.State, inst.State)
	// The dedup key is free again: the rolled-back event did not claim it.
	ins, err := s.InsertEvent(ctx, store.Event{TenantID: "t1", ID: "evt_probe_" + suffix, ConnectionID: f.conn.ID,
		DedupKey: suffix, Type: "x"})
	require.NoError(t, err)
	require.True(t, ins)
}

// testLockConnection runs read-modify-write cycles on one connection from
// many goroutines. Without the lock two transactions read the same value and
// one increment is lost; with it every increment lands.
func testLockConnection(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	f.conn.StateReason = "0"
	require.NoError(t, s.UpdateConnection(ctx, f.conn))

	err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.LockConnection(ctx, "t1", "conn_missing")
		return err
	})
	require.ErrorIs(t, err, store.ErrNotFound)
	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.LockConnection(ctx, "tb", f.conn.ID)
		return err
	})
	require.ErrorIs(t, err, store.ErrNotFound, "another tenant cannot lock it")

	const workers, rounds = 8, 4
	errs := make([]error, workers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for range rounds {
				err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
					c, err := tx.LockConnection(ctx, "t1", f.conn.ID)
					if err != nil {
						return err
					}
					n, err := strconv.Atoi(c.StateReason)
					if err != nil {
						return err
					}
					c.StateReason = strconv.Itoa(n + 1)
					return tx.UpdateConnection(ctx, c)
				})
				if err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	got, err := s.GetConnection(ctx, "t1", f.conn.ID)
	require.NoError(t, err)
	require.Equal(t, strconv.Itoa(workers*rounds), got.StateReason, "no increment lost")
}
