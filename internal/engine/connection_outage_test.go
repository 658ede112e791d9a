package engine_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// failingCredentials refuses the incidents connection's credential with
// err (the engine sees only the connector's contract).
type failingCredentials struct {
	mu  sync.Mutex
	err error
}

func (f *failingCredentials) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *failingCredentials) Authorizer(_ context.Context, _ store.Connection, p *spec.Provider) (connector.Authorizer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p.Name == "incidents" && f.err != nil {
		return nil, f.err
	}
	return connector.Bearer{Token: simToken}, nil
}

// ReconnectURL is the optional capability the pause uses for a link an
// admin can open.
func (f *failingCredentials) ReconnectURL(_ context.Context, conn store.Connection) (string, error) {
	return "https://accord.example.com/connect/start?session=for-" + conn.ID, nil
}

// TestOneRecordErrorPerOutage: many writes meeting one revoked grant at
// once file one record error and one alert for the installation; it is
// resolved when reconnecting releases the held writes, and the next outage
// files a new one.
func TestOneRecordErrorPerOutage(t *testing.T) {
	t.Parallel()
	creds := &failingCredentials{}
	tb := setupWith(t, setupOpts{credentials: func(*testBundle) engine.Credentials { return creds }})
	creds.set(fmt.Errorf("authorizing: %w", connector.ErrNeedsReconnect))

	var wg sync.WaitGroup
	for i := range 8 {
		args := tb.event(t, escalated(fmt.Sprintf("T-%d", i), 1, "Held", "high"))
		wg.Add(1)
		go func() {
			defer wg.Done()
			requireSnooze(t, tb.deliver(t, args))
		}()
	}
	wg.Wait()
	errs := tb.recordErrors(t)
	require.Len(t, errs, 1, "one record error for the installation and the outage")
	require.Equal(t, engine.ClassAuth, errs[0].Class)
	require.Contains(t, errs[0].Remediation, "held, not dropped")
	require.Contains(t, errs[0].Remediation, "https://accord.example.com/connect/start?session=for-"+tb.incidentsConn,
		"a link an admin can open, not only an API call")
	require.Equal(t, engine.ClassAuth, tb.waitAlert(t).Class)
	require.Equal(t, store.ConnectionNeedsReconnect, tb.connection(t, tb.incidentsConn).State)
	entries, err := tb.store.ListAudit(t.Context(), errs[0].TenantID, 0, 100)
	require.NoError(t, err)
	require.Equal(t, "connection.needs_reconnect", entries[len(entries)-1].Action, "the pause is audited")

	// Reconnected: the outage's record error is resolved.
	creds.set(nil)
	conn := tb.connection(t, tb.incidentsConn)
	conn.State, conn.StateReason = store.ConnectionActive, ""
	require.NoError(t, tb.store.UpdateConnection(t.Context(), conn))
	require.NoError(t, tb.engine.ResumeConnection(t.Context(), tb.connection(t, tb.incidentsConn)))
	got, err := tb.store.GetRecordError(t.Context(), errs[0].TenantID, errs[0].ID)
	require.NoError(t, err)
	require.Equal(t, store.RecordErrorResolved, got.Status)

	// A new outage: a new record error.
	creds.set(fmt.Errorf("authorizing: %w", connector.ErrNeedsReconnect))
	requireSnooze(t, tb.deliver(t, tb.event(t, escalated("T-next", 1, "Held again", "high"))))
	open, err := tb.store.ListRecordErrors(t.Context(), errs[0].TenantID, store.RecordErrorFilter{Status: store.RecordErrorOpen})
	require.NoError(t, err)
	require.Len(t, open, 1)
	require.NotEqual(t, errs[0].ID, open[0].ID)
}

// TestAuthUnavailableNeverPauses: a credential the token endpoint could not
// issue for the operator's reason (invalid_client, a 5xx) is retried with
// backoff; the connection stays active and no record error is filed.
func TestAuthUnavailableNeverPauses(t *testing.T) {
	t.Parallel()
	creds := &failingCredentials{}
	tb := setupWith(t, setupOpts{credentials: func(*testBundle) engine.Credentials { return creds }})
	creds.set(fmt.Errorf("refreshing token: token endpoint answered 401 invalid_client: %w", connector.ErrAuthUnavailable))

	requireRetry(t, tb.deliver(t, tb.event(t, escalated("T-1", 1, "Waits for the operator", "high"))))
	require.Equal(t, store.ConnectionActive, tb.connection(t, tb.incidentsConn).State)
	require.Empty(t, tb.recordErrors(t))

	creds.set(nil)
	require.NoError(t, tb.deliver(t, tb.event(t, escalated("T-1", 1, "Waits for the operator", "high"))))
	require.Equal(t, 1, tb.incidents.Count())
}

// TestOutageFiledWhenPausedElsewhere: a connection the background refresh
// paused (no write met the failure) still gets its one record error per
// installation, and a write that then meets the failure files no second.
func TestOutageFiledWhenPausedElsewhere(t *testing.T) {
	t.Parallel()
	creds := &failingCredentials{}
	tb := setupWith(t, setupOpts{credentials: func(*testBundle) engine.Credentials { return creds }})
	conn := tb.connection(t, tb.incidentsConn)
	conn.State, conn.StateReason = store.ConnectionNeedsReconnect, "Access to Incidents was revoked."
	require.NoError(t, tb.store.UpdateConnection(t.Context(), conn))
	conn = tb.connection(t, tb.incidentsConn)
	require.NoError(t, tb.engine.ResumeConnection(t.Context(), conn))
	require.NoError(t, tb.engine.ResumeConnection(t.Context(), conn), "a second notice files nothing more")
	errs := tb.recordErrors(t)
	require.Len(t, errs, 1)
	require.Equal(t, engine.ClassAuth, errs[0].Class)
	require.Contains(t, errs[0].Remediation, "revoked")
	require.Contains(t, errs[0].Remediation, "single-use link")
	require.Equal(t, engine.ClassAuth, tb.waitAlert(t).Class)

	creds.set(fmt.Errorf("authorizing: %w", connector.ErrNeedsReconnect))
	conn.State = store.ConnectionActive
	require.NoError(t, tb.store.UpdateConnection(t.Context(), conn))
	requireSnooze(t, tb.deliver(t, tb.event(t, escalated("T-1", 1, "Held", "high"))))
	require.Len(t, tb.recordErrors(t), 1)
}
