package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

func testDataKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, id := range []string{"t3", "t1", "t2", "t4"} {
		require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: id, Name: id}))
	}
	_, err := s.GetDataKey(ctx, "t1")
	require.ErrorIs(t, err, store.ErrNotFound)

	k := store.DataKey{TenantID: "t1", MasterKeyID: "mk1", Wrapped: []byte{9, 0, 8, 0xff}, CreatedAt: at(0),
		UpdatedAt: at(0)}
	require.NoError(t, s.PutDataKey(ctx, k))
	got, err := s.GetDataKey(ctx, "t1")
	require.NoError(t, err)
	require.Equal(t, store.DataKey{TenantID: "t1", MasterKeyID: "mk1", Wrapped: k.Wrapped, CreatedAt: norm(at(0)),
		UpdatedAt: norm(at(0))}, got)

	// Rewrapped under a new master key: replaced, first CreatedAt kept.
	k2 := store.DataKey{TenantID: "t1", MasterKeyID: "mk2", Wrapped: []byte("rewrapped"), CreatedAt: at(time.Hour),
		UpdatedAt: at(time.Hour)}
	require.NoError(t, s.PutDataKey(ctx, k2))
	got, err = s.GetDataKey(ctx, "t1")
	require.NoError(t, err)
	require.Equal(t, "mk2", got.MasterKeyID)
	require.Equal(t, []byte("rewrapped"), got.Wrapped)
	require.Equal(t, norm(at(0)), got.CreatedAt)
	require.Equal(t, norm(at(time.Hour)), got.UpdatedAt)

	for _, id := range []string{"t3", "t2", "t4"} {
		require.NoError(t, s.PutDataKey(ctx, store.DataKey{TenantID: id, MasterKeyID: "mk1", Wrapped: []byte(id)}))
	}
	require.ErrorIs(t, s.PutDataKey(ctx, store.DataKey{TenantID: "t_missing", MasterKeyID: "mk1", Wrapped: []byte("x")}),
		store.ErrNotFound, "a data key needs its tenant")

	// Paging visits every tenant once, in tenant id order.
	var seen []string
	after := ""
	for {
		page, err := s.ListDataKeys(ctx, after, 3)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		require.LessOrEqual(t, len(page), 3)
		for _, p := range page {
			seen = append(seen, p.TenantID)
			require.NotEmpty(t, p.Wrapped)
		}
		after = page[len(page)-1].TenantID
	}
	require.Equal(t, []string{"t1", "t2", "t3", "t4"}, seen)
}

func testOAuthStates(t *testing.T, s store.Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "one"}))
	st := store.OAuthState{State: "st_random", TenantID: "t1", Provider: "helpdesk", ConnectionID: "conn_1",
		Sealed: []byte{1, 2, 3, 0}, ExpiresAt: at(10 * time.Minute), CreatedAt: at(0)}
	require.NoError(t, s.CreateOAuthState(ctx, st))
	require.ErrorIs(t, s.CreateOAuthState(ctx, st), store.ErrConflict)
	orphan := st
	orphan.State, orphan.TenantID = "st_orphan", "t_missing"
	require.ErrorIs(t, s.CreateOAuthState(ctx, orphan), store.ErrNotFound)

	got, err := s.ConsumeOAuthState(ctx, "st_random")
	require.NoError(t, err)
	want := st
	want.ExpiresAt, want.CreatedAt = norm(st.ExpiresAt), norm(st.CreatedAt)
	require.Equal(t, want, got)

	_, err = s.ConsumeOAuthState(ctx, "st_random")
	require.ErrorIs(t, err, store.ErrNotFound, "a state is single-use")
	_, err = s.ConsumeOAuthState(ctx, "st_never")
	require.ErrorIs(t, err, store.ErrNotFound)

	// Two callbacks racing with one state: exactly one wins.
	require.NoError(t, s.CreateOAuthState(ctx, store.OAuthState{State: "st_race", TenantID: "t1", Provider: "crm",
		ExpiresAt: at(time.Hour)}))
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = s.ConsumeOAuthState(ctx, "st_race")
		}()
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
			continue
		}
		require.ErrorIs(t, err, store.ErrNotFound)
	}
	require.Equal(t, 1, wins)
}
