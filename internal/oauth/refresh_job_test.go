package oauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/oauth"
	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/store"
)

func TestRefreshAheadOfExpiry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := connectWeb(t, b)
	require.False(t, c.TokenExpiresAt.IsZero())
	before := b.secret(t, c)
	_, err := b.m.Connect(ctx, tenantID, "apikey", credential.Secret{APIKey: "static-api-key-value"})
	require.NoError(t, err)
	b.secrets.Store("static-api-key-value", true)

	// Only the OAuth connection whose token expires before the deadline is
	// due; API keys never expire.
	due, err := b.m.ExpiringConnections(ctx, c.TokenExpiresAt.Add(-time.Second))
	require.NoError(t, err)
	require.Empty(t, due)
	due, err = b.m.ExpiringConnections(ctx, c.TokenExpiresAt.Add(time.Second))
	require.NoError(t, err)
	require.Len(t, due, 1)
	require.Equal(t, c.ID, due[0].ID)

	refreshed, err := b.m.RefreshAhead(ctx, tenantID, c.ID, c.TokenExpiresAt.Add(-time.Second))
	require.NoError(t, err)
	require.False(t, refreshed, "a token that outlives the deadline is left alone")
	require.Zero(t, b.op.refreshGrants.Load())

	refreshed, err = b.m.RefreshAhead(ctx, tenantID, c.ID, c.TokenExpiresAt.Add(time.Second))
	require.NoError(t, err)
	require.True(t, refreshed)
	require.Equal(t, int64(1), b.op.refreshGrants.Load())
	after := b.secret(t, c)
	require.NotEqual(t, before.AccessToken, after.AccessToken)
	stored, err := b.st.GetConnection(ctx, tenantID, c.ID)
	require.NoError(t, err)
	require.Equal(t, after.Expiry.Unix(), stored.TokenExpiresAt.Unix())

	// A revoked grant: the job does not fail (nothing to retry), the
	// connection needs reconnecting and is no longer swept.
	b.op.revokeGrant(t, after.RefreshToken)
	far := time.Now().Add(24 * time.Hour)
	refreshed, err = b.m.RefreshAhead(ctx, tenantID, c.ID, far)
	require.NoError(t, err)
	require.False(t, refreshed)
	stored, err = b.st.GetConnection(ctx, tenantID, c.ID)
	require.NoError(t, err)
	require.Equal(t, store.ConnectionNeedsReconnect, stored.State)
	due, err = b.m.ExpiringConnections(ctx, far)
	require.NoError(t, err)
	require.Empty(t, due)

	// A connection that no longer exists is nothing to do either.
	refreshed, err = b.m.RefreshAhead(ctx, tenantID, "conn_gone", far)
	require.NoError(t, err)
	require.False(t, refreshed)
}

func TestRefreshJobsThroughQueue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := connectWeb(t, b)
	before := b.secret(t, c)

	reg := queue.NewRegistry()
	// Lead = Window: every swept connection is refreshed at once.
	require.NoError(t, b.m.RegisterWith(reg, &oauth.RefreshJobConfig{Interval: time.Hour, Window: time.Hour, Lead: time.Hour}))
	require.ErrorIs(t, b.m.Register(reg), queue.ErrDuplicateKind)
	require.Equal(t, []string{oauth.KindRefresh, oauth.KindRefreshSweep}, reg.Kinds())

	q, err := queue.New(b.st, reg, &queue.Config{Workers: true, MaxWorkers: 4})
	require.NoError(t, err)
	require.NoError(t, q.Migrate(ctx))
	events, cancel := q.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()
	require.NoError(t, q.Start(ctx))
	t.Cleanup(func() {
		stopCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		_ = q.Stop(stopCtx)
	})

	_, err = q.Insert(ctx, oauth.RefreshSweepArgs{}, nil)
	require.NoError(t, err)

	timeout := time.After(30 * time.Second)
	for done := false; !done; {
		select {
		case ev := <-events:
			require.Equal(t, river.EventKindJobCompleted, ev.Kind, "job %s failed: %v", ev.Job.Kind, ev.Job.Errors)
			if ev.Job.Kind == oauth.KindRefresh {
				require.JSONEq(t, `{"tenant_id":"`+tenantID+`","connection_id":"`+c.ID+`"}`, string(ev.Job.EncodedArgs))
				done = true
			}
		case <-timeout:
			t.Fatal("the sweep did not lead to a completed refresh job")
		}
	}
	require.GreaterOrEqual(t, b.op.refreshGrants.Load(), int64(1))
	require.NotEqual(t, before.AccessToken, b.secret(t, c).AccessToken)
}
