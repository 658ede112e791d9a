package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/oauth"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// revokedGrant plays the OAuth token source whose refresh was just refused:
// it has already moved the connection to needs_reconnect itself.
type revokedGrant struct{ tb *testBundle }

func (r revokedGrant) Authorizer(ctx context.Context, conn store.Connection, p *spec.Provider) (connector.Authorizer, error) {
	if p.Name != "incidents" {
		return connector.Bearer{Token: simToken}, nil
	}
	cur, err := r.tb.store.GetConnection(ctx, conn.TenantID, conn.ID)
	if err != nil {
		return nil, err
	}
	cur.State, cur.StateReason = store.ConnectionNeedsReconnect, "the grant was revoked"
	if err := r.tb.store.UpdateConnection(ctx, cur); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("authorizing: %w", &oauth.NeedsReconnectError{TenantID: conn.TenantID, ConnectionID: conn.ID, Provider: p.Name})
}

// When the token source paused the connection before the engine saw the
// failure, the record error with its reconnect link and the alert are still
// filed, once.
func TestRevokedGrantFilesOneRecordErrorWithReconnectLink(t *testing.T) {
	t.Parallel()
	tb := setupWith(t, setupOpts{credentials: func(tb *testBundle) engine.Credentials { return revokedGrant{tb: tb} }})

	requireSnooze(t, tb.deliver(t, tb.event(t, escalated("T-1", 1, "Revoked", "high"))))
	errs := tb.recordErrors(t)
	require.Len(t, errs, 1)
	require.Equal(t, engine.ClassAuth, errs[0].Class)
	require.Contains(t, errs[0].Remediation, "reconnect the account")
	require.Contains(t, errs[0].Remediation, "/connections/"+tb.incidentsConn+"/reconnect")
	require.Equal(t, engine.ClassAuth, tb.waitAlert(t).Class)
	require.Equal(t, store.ConnectionNeedsReconnect, tb.connection(t, tb.incidentsConn).State)

	requireSnooze(t, tb.deliver(t, tb.event(t, escalated("T-2", 1, "Also waiting", "high"))))
	require.Len(t, tb.recordErrors(t), 1, "the second paused record files nothing more")
	require.Zero(t, tb.incidents.Count())
}
