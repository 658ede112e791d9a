package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/web/api"
)

// A retry that lifts a missing_scopes pause tells the engine, so the other
// work waiting on that connection runs now; a connection still needing a
// reconnect is refused and nothing is resumed.
func TestRetryRecordErrorReportsResumedConnections(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		state       store.ConnectionState
		wantResumed bool
	}{
		{store.ConnectionMissingScopes, true},
		{store.ConnectionNeedsReconnect, false},
	} {
		t.Run(string(tc.state), func(t *testing.T) {
			t.Parallel()
			b := setupClient(t)
			ctx := t.Context()
			inst, conns := b.install(t)
			inc, err := b.st.GetConnection(ctx, "acme", conns["incidents"].ID)
			require.NoError(t, err)
			inc.State, inc.StateReason = tc.state, "paused"
			require.NoError(t, b.st.UpdateConnection(ctx, inc))
			now := time.Now().UTC()
			require.NoError(t, b.st.InsertRecordError(ctx, store.RecordError{
				TenantID: "acme", ID: "re_perm", InstallationID: inst.ID, Object: "ticket", SourceID: "T-1",
				Status: store.RecordErrorOpen, Class: "permission", JobKind: "deliver_event",
				JobArgs: json.RawMessage(`{"event_id":"ev_1"}`), CreatedAt: now, UpdatedAt: now,
			}))

			var mu sync.Mutex
			var resumed []store.Connection
			a := api.New(api.Deps{Store: b.st, Queue: b.queue, Token: clToken,
				OnConnectionResumed: func(_ context.Context, c store.Connection) {
					mu.Lock()
					defer mu.Unlock()
					resumed = append(resumed, c)
				}})
			root := http.NewServeMux()
			for pattern, h := range a.Routes() {
				root.Handle(pattern, h)
			}
			srv := httptest.NewServer(root)
			t.Cleanup(srv.Close)
			client := &api.Client{BaseURL: srv.URL, Token: clToken, HTTP: srv.Client()}

			_, err = client.RetryRecordError(ctx, "acme", "re_perm")
			mu.Lock()
			defer mu.Unlock()
			if !tc.wantResumed {
				var ce *api.ClientError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, http.StatusConflict, ce.Status)
				require.Empty(t, resumed)
				return
			}
			require.NoError(t, err)
			require.Len(t, resumed, 1, "only the connection whose pause was lifted")
			require.Equal(t, inc.ID, resumed[0].ID)
			require.Equal(t, store.ConnectionActive, resumed[0].State)
			got, err := b.st.GetConnection(ctx, "acme", inc.ID)
			require.NoError(t, err)
			require.Equal(t, store.ConnectionActive, got.State, "the hook sees the committed state")
		})
	}
}
