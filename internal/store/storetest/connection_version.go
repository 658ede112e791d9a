package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

func testConnectionSwap(t *testing.T, s store.Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "one"}))
	require.NoError(t, s.CreateConnection(ctx, store.Connection{TenantID: "t1", ID: "conn_a", Provider: "crm",
		State: store.ConnectionActive, AccountID: "acct-1", Version: 42}))
	c, err := s.GetConnection(ctx, "t1", "conn_a")
	require.NoError(t, err)
	require.EqualValues(t, 1, c.Version, "a new connection is version 1, whatever was given")
	require.Equal(t, "acct-1", c.AccountID)

	// UpdateConnection bumps the version whatever the caller read.
	stale := c
	c.StateReason = "x"
	c.Version = 99
	require.NoError(t, s.UpdateConnection(ctx, c))
	c, err = s.GetConnection(ctx, "t1", "conn_a")
	require.NoError(t, err)
	require.EqualValues(t, 2, c.Version)

	// A swap from the version read wins; one from an older read loses and
	// writes nothing.
	stale.Secret = []byte("lost")
	ok, err := s.SwapConnection(ctx, stale)
	require.NoError(t, err)
	require.False(t, ok)
	got, err := s.GetConnection(ctx, "t1", "conn_a")
	require.NoError(t, err)
	require.Equal(t, c, got, "a lost swap writes nothing")

	c.Secret, c.AccountID = []byte("won"), "acct-2"
	ok, err = s.SwapConnection(ctx, c)
	require.NoError(t, err)
	require.True(t, ok)
	got, err = s.GetConnection(ctx, "t1", "conn_a")
	require.NoError(t, err)
	require.Equal(t, []byte("won"), got.Secret)
	require.Equal(t, "acct-2", got.AccountID)
	require.EqualValues(t, 3, got.Version)

	missing := c
	missing.ID = "conn_missing"
	_, err = s.SwapConnection(ctx, missing)
	require.ErrorIs(t, err, store.ErrNotFound)
	other := c
	other.TenantID = "t_other"
	_, err = s.SwapConnection(ctx, other)
	require.ErrorIs(t, err, store.ErrNotFound, "another tenant's id is not found")

	// Inside a transaction too.
	require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		cur, err := tx.LockConnection(ctx, "t1", "conn_a")
		require.NoError(t, err)
		ok, err := tx.SwapConnection(ctx, cur)
		require.True(t, ok)
		return err
	}))
	got, err = s.GetConnection(ctx, "t1", "conn_a")
	require.NoError(t, err)
	require.EqualValues(t, 4, got.Version)
}

// testConnectionSwapRace: many writers swap from the same read; exactly
// one wins, across the pool's connections.
func testConnectionSwapRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "one"}))
	require.NoError(t, s.CreateConnection(ctx, store.Connection{TenantID: "t1", ID: "conn_a", Provider: "crm",
		State: store.ConnectionActive}))
	read, err := s.GetConnection(ctx, "t1", "conn_a")
	require.NoError(t, err)
	var wins atomic.Int64
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := read
			c.Secret = []byte{byte(i)}
			ok, err := s.SwapConnection(ctx, c)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, 1, wins.Load())
	got, err := s.GetConnection(ctx, "t1", "conn_a")
	require.NoError(t, err)
	require.EqualValues(t, 2, got.Version)
}

func testConnectSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "one"}))
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "t2", Name: "two"}))
	sess := store.ConnectSession{TenantID: "t1", ID: "cs_1", Provider: "crm", ConnectionID: "conn_a",
		AllowAccountChange: true, ExpiresAt: at(time.Hour), CreatedAt: at(0)}
	require.NoError(t, s.CreateConnectSession(ctx, sess))
	require.ErrorIs(t, s.CreateConnectSession(ctx, sess), store.ErrConflict)
	require.Error(t, s.CreateConnectSession(ctx, store.ConnectSession{TenantID: "t1", ID: "cs_x", Provider: "crm"}),
		"ExpiresAt is required")

	_, err := s.ConsumeConnectSession(ctx, "t2", "cs_1")
	require.ErrorIs(t, err, store.ErrNotFound, "another tenant cannot consume it")
	got, err := s.ConsumeConnectSession(ctx, "t1", "cs_1")
	require.NoError(t, err)
	want := sess
	want.ExpiresAt, want.CreatedAt = norm(sess.ExpiresAt), norm(sess.CreatedAt)
	require.Equal(t, want, got)
	_, err = s.ConsumeConnectSession(ctx, "t1", "cs_1")
	require.ErrorIs(t, err, store.ErrNotFound, "single use")

	// Concurrent consumers: one wins.
	require.NoError(t, s.CreateConnectSession(ctx, store.ConnectSession{TenantID: "t1", ID: "cs_race", Provider: "crm",
		ExpiresAt: at(time.Hour)}))
	var wins atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.ConsumeConnectSession(ctx, "t1", "cs_race"); err == nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, 1, wins.Load())

	// Disconnect deletes a connection's reconnect links (and only its own),
	// and its flows in progress.
	for _, cs := range []store.ConnectSession{
		{TenantID: "t1", ID: "cs_a1", Provider: "crm", ConnectionID: "conn_a", ExpiresAt: at(time.Hour)},
		{TenantID: "t1", ID: "cs_a2", Provider: "crm", ConnectionID: "conn_a", ExpiresAt: at(time.Hour)},
		{TenantID: "t1", ID: "cs_b", Provider: "crm", ConnectionID: "conn_b", ExpiresAt: at(time.Hour)},
		{TenantID: "t1", ID: "cs_new", Provider: "crm", ExpiresAt: at(-time.Minute)},
		{TenantID: "t2", ID: "cs_a3", Provider: "crm", ConnectionID: "conn_a", ExpiresAt: at(time.Hour)},
	} {
		require.NoError(t, s.CreateConnectSession(ctx, cs))
	}
	n, err := s.DeleteConnectSessionsForConnection(ctx, "t1", "conn_a")
	require.NoError(t, err)
	require.Equal(t, 2, n)
	_, err = s.ConsumeConnectSession(ctx, "t1", "cs_b")
	require.NoError(t, err)
	_, err = s.ConsumeConnectSession(ctx, "t2", "cs_a3")
	require.NoError(t, err, "another tenant's link is untouched")
	n, err = s.DeleteConnectSessionsForConnection(ctx, "t1", "")
	require.NoError(t, err)
	require.Zero(t, n, "new-connection links belong to no connection")
	n, err = s.DeleteExpiredConnectSessions(ctx, at(0))
	require.NoError(t, err)
	require.Equal(t, 1, n)

	for i, st := range []store.OAuthState{
		{State: "st1", TenantID: "t1", Provider: "crm", ConnectionID: "conn_a", ExpiresAt: at(time.Hour)},
		{State: "st2", TenantID: "t1", Provider: "crm", ExpiresAt: at(time.Hour)},
		{State: "st3", TenantID: "t2", Provider: "crm", ConnectionID: "conn_a", ExpiresAt: at(time.Hour)},
	} {
		require.NoError(t, s.CreateOAuthState(ctx, st), i)
	}
	n, err = s.DeleteOAuthStatesForConnection(ctx, "t1", "conn_a")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = s.ConsumeOAuthState(ctx, "st1")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.ConsumeOAuthState(ctx, "st2")
	require.NoError(t, err)
	_, err = s.ConsumeOAuthState(ctx, "st3")
	require.NoError(t, err)
}
