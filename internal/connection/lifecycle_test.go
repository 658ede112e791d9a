package connection_test

import (
	"context"
	"encoding/json"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/connection"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/postgres"
	"github.com/accordhq/accord/internal/store/sqlite"
)

type bundle struct {
	st      store.Store
	l       *connection.Lifecycle
	changes chan store.Connection
}

// forEachStore runs fn on SQLite and, when ACCORD_TEST_POSTGRES is set, on
// PostgreSQL.
func forEachStore(t *testing.T, fn func(t *testing.T, b *bundle)) {
	t.Helper()
	opens := map[string]func(t *testing.T) store.Store{"sqlite": func(t *testing.T) store.Store { return sqlite.OpenTest(t) }}
	if dsn := os.Getenv("ACCORD_TEST_POSTGRES"); dsn != "" {
		opens["postgres"] = func(t *testing.T) store.Store { return postgres.OpenTestSchema(t, dsn) }
	}
	for name, open := range opens {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := &bundle{st: open(t), changes: make(chan store.Connection, 100)}
			b.l = connection.New(b.st, &connection.Config{OnChange: func(_ context.Context, c store.Connection) { b.changes <- c }})
			ctx := context.Background()
			require.NoError(t, b.st.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "one"}))
			_, err := b.l.Create(ctx, store.Connection{TenantID: "t1", ID: "conn_1", Provider: "crm", State: store.ConnectionActive,
				AccountID: "acct-A", Secret: []byte("sealed")}, connection.Entry{Actor: "tenant", Action: "connection.created"})
			require.NoError(t, err)
			require.Equal(t, "conn_1", (<-b.changes).ID)
			fn(t, b)
		})
	}
}

func lastAudit(t *testing.T, st store.Store) (store.AuditEntry, map[string]any) {
	t.Helper()
	entries, err := st.ListAudit(context.Background(), "t1", 0, 1000)
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	e := entries[len(entries)-1]
	var d map[string]any
	require.NoError(t, json.Unmarshal(e.Detail, &d))
	return e, d
}

// TestPauseOncePerOutage: of many writers seeing one failure, one pauses
// the connection and learns it did, in the transaction that wrote it.
func TestPauseOncePerOutage(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		var firsts, alsoCalls atomic.Int64
		var wg sync.WaitGroup
		for range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, changed, err := b.l.Pause(ctx, "t1", "conn_1", store.ConnectionNeedsReconnect, "revoked",
					connection.Entry{}, func(context.Context, store.Tx, store.Connection, bool) error { alsoCalls.Add(1); return nil })
				require.NoError(t, err)
				if changed {
					firsts.Add(1)
				}
			}()
		}
		wg.Wait()
		require.EqualValues(t, 1, firsts.Load())
		require.EqualValues(t, 12, alsoCalls.Load())
		c, err := b.st.GetConnection(ctx, "t1", "conn_1")
		require.NoError(t, err)
		require.Equal(t, store.ConnectionNeedsReconnect, c.State)
		e, d := lastAudit(t, b.st)
		require.Equal(t, "connection.needs_reconnect", e.Action)
		require.Equal(t, connection.ActorSystem, e.Actor)
		require.Equal(t, "active", d["previous_state"])
		require.Equal(t, store.ConnectionNeedsReconnect, (<-b.changes).State)
		require.Empty(t, b.changes, "one hook per committed transition")

		_, _, err = b.l.Resume(ctx, "t1", "conn_1", "admin")
		require.ErrorIs(t, err, connection.ErrNotPaused, "needs_reconnect resumes only by reconnecting")
	})
}

func TestReconnectAccountChange(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		_, err := b.l.Reconnect(ctx, "t1", "conn_1", "tenant", connection.Grant{Secret: []byte("other"), AccountID: "acct-B"})
		var ac *connection.AccountChangedError
		require.ErrorAs(t, err, &ac)
		require.Equal(t, "acct-A", ac.Previous)
		require.Equal(t, "acct-B", ac.Got)
		c, err := b.st.GetConnection(ctx, "t1", "conn_1")
		require.NoError(t, err)
		require.Equal(t, []byte("sealed"), c.Secret, "nothing stored")

		c, err = b.l.Reconnect(ctx, "t1", "conn_1", "admin", connection.Grant{Secret: []byte("other"), AccountID: "acct-B", AllowAccountChange: true})
		require.NoError(t, err)
		require.Equal(t, "acct-B", c.AccountID)
		e, d := lastAudit(t, b.st)
		require.Equal(t, "connection.reconnected", e.Action)
		require.Equal(t, "acct-A", d["previous_account_id"])
		require.Equal(t, "acct-B", d["account_id"])
	})
}

func TestDisconnectCancelsLinks(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		exp := time.Now().Add(time.Hour)
		require.NoError(t, b.st.CreateConnectSession(ctx, store.ConnectSession{TenantID: "t1", ID: "cs", Provider: "crm", ConnectionID: "conn_1", ExpiresAt: exp}))
		require.NoError(t, b.st.CreateOAuthState(ctx, store.OAuthState{State: "st", TenantID: "t1", Provider: "crm", ConnectionID: "conn_1", ExpiresAt: exp}))
		c, err := b.l.Disconnect(ctx, "t1", "conn_1", "admin@example.com", map[string]any{"revoked_at_provider": true})
		require.NoError(t, err)
		require.Equal(t, store.ConnectionDisconnected, c.State)
		require.Empty(t, c.Secret)
		_, err = b.st.ConsumeConnectSession(ctx, "t1", "cs")
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.st.ConsumeOAuthState(ctx, "st")
		require.ErrorIs(t, err, store.ErrNotFound)
		_, d := lastAudit(t, b.st)
		require.EqualValues(t, 1, d["cancelled_links"])
		require.EqualValues(t, 1, d["cancelled_sign_ins"])
	})
}

func TestSwapLosesToConcurrentWriter(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		read, err := b.st.GetConnection(ctx, "t1", "conn_1")
		require.NoError(t, err)
		_, _, err = b.l.Pause(ctx, "t1", "conn_1", store.ConnectionNeedsReconnect, "revoked", connection.Entry{}, nil)
		require.NoError(t, err)
		read.Secret = []byte("refreshed")
		ok, err := b.l.Swap(ctx, read, read.State, nil)
		require.NoError(t, err)
		require.False(t, ok, "a refresh never overwrites a state change made meanwhile")
		c, err := b.st.GetConnection(ctx, "t1", "conn_1")
		require.NoError(t, err)
		require.Equal(t, store.ConnectionNeedsReconnect, c.State)
		require.Equal(t, []byte("sealed"), c.Secret)
	})
}
