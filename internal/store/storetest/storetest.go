package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// Open returns a fresh, migrated, empty store that it closes when the test
// ends (t.Cleanup). now is the clock the store must use (its Config.Now);
// nil means the real clock.
type Open func(t *testing.T, now func() time.Time) store.Store

// Run runs the suite. open is called once per subtest, and subtests run in
// parallel.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Tenants", testTenants},
		{"Connections", testConnections},
		{"ConnectionSettings", testConnectionSettings},
		{"Installations", testInstallations},
		{"Events", testEvents},
		{"EventsConcurrentDedup", testEventsConcurrentDedup},
		{"EventStateOnInsert", testEventStateOnInsert},
		{"SetEventsState", testSetEventsState},
		{"SetEventsStateBatch", testSetEventsStateBatch},
		{"ListPendingEvents", testListPendingEvents},
		{"EventStateInTx", testEventStateInTx},
		{"Links", testLinks},
		{"RecordErrors", testRecordErrors},
		{"DataKeys", testDataKeys},
		{"OAuthStates", testOAuthStates},
		{"Audit", testAudit},
		{"AuditConcurrent", testAuditConcurrent},
		{"TenantIsolation", testTenantIsolation},
		{"InTx", testInTx},
		{"LockConnection", testLockConnection},
		{"Timestamps", testTimestamps},
		{"MigrateIdempotent", testMigrateIdempotent},
		{"PingAndDialect", testPingAndDialect},
		{"LeaseRace", testLeaseRace},
		{"LeaseRelease", testLeaseRelease},
		{"LeaseTenantIsolation", testLeaseTenantIsolation},
		{"LeaseInTx", testLeaseInTx},
		{"LinkAction", testLinkAction},
		{"LinkFence", testLinkFence},
		{"LinkTombstone", testLinkTombstone},
		{"LinkUncertain", testLinkUncertain},
		{"EventTransitions", testEventTransitions},
		{"EventOutcome", testEventOutcome},
		{"ClaimPendingEvents", testClaimPendingEvents},
		{"ClaimPendingEventsRace", testClaimPendingEventsRace},
		{"DeleteDoneEvents", testDeleteDoneEvents},
		{"ReleaseLeasesHeldBy", testReleaseLeasesHeldBy},
		{"CountWaitingEvents", testCountWaitingEvents},
		{"ConnectionSwap", testConnectionSwap},
		{"ConnectionSwapRace", testConnectionSwapRace},
		{"ConnectSessions", testConnectSessions},
		{"APITokens", testAPITokens},
		{"UILinks", testUILinks},
		{"HealthCounts", testHealthCounts},
		{"AuditNewest", testAuditNewest},
		{"PurgeInstallation", testPurgeInstallation},
		{"Uninstalls", testUninstalls},
		{"Notify", testNotify},
		{"SyncStates", testSyncStates},
		{"LinksByTarget", testLinksByTarget},
		{"LinksToObject", testLinksToObject},
		{"MergeLinks", testMergeLinks},
		{"Reconciliations", testReconciliations},
		{"PartnerStatus", testPartnerStatus},
		{"ConnectionSettingsEdit", testConnectionSettingsEdit},
		{"WebhookRejections", testWebhookRejections},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t, nil))
		})
	}
	// Tests that move the store's clock.
	clocked := []struct {
		name string
		fn   func(t *testing.T, s store.Store, clock *Clock)
	}{
		{"LeaseRenewalAndExpiry", testLeaseRenewalAndExpiry},
		{"PendingEventsSweep", testPendingEventsSweep},
		{"LeaseRenew", testLeaseRenew},
		{"DeleteExpired", testDeleteExpired},
		{"ProcessLeases", testProcessLeases},
		{"PartnerHolds", testPartnerHolds},
		{"HealthRollup", testHealthRollup},
		{"EventLatencies", testEventLatencies},
	}
	for _, tc := range clocked {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := NewClock(base)
			tc.fn(t, open(t, clock.Now), clock)
		})
	}
}

// base is a timestamp with nanoseconds and a non-UTC zone: stores must hand
// it back in UTC, exact to the microsecond.
var base = time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.FixedZone("CET", 3600))

// at returns base plus d.
func at(d time.Duration) time.Time { return base.Add(d) }

// norm is what a store returns for t.
func norm(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// requireJSONEq compares JSON documents by meaning: PostgreSQL's jsonb
// reformats them.
func requireJSONEq(t *testing.T, want, got json.RawMessage, msg string) {
	t.Helper()
	if len(want) == 0 {
		require.Empty(t, got, msg)
		return
	}
	require.JSONEq(t, string(want), string(got), msg)
}

// fixture is a tenant with one connection and one installation using it.
type fixture struct {
	tenant store.Tenant
	conn   store.Connection
	inst   store.Installation
}

func seed(t *testing.T, s store.Store, tenantID string) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{
		tenant: store.Tenant{ID: tenantID, Name: "Tenant " + tenantID, CreatedAt: at(0)},
		conn: store.Connection{
			TenantID: tenantID, ID: "conn_" + tenantID, Provider: "helpdesk", State: store.ConnectionActive,
			Secret: []byte{0, 1, 2, 0xff}, GrantedScopes: []string{"tickets:read"},
			CreatedAt: at(time.Second), UpdatedAt: at(time.Second),
		},
		inst: store.Installation{
			TenantID: tenantID, ID: "inst_" + tenantID, Contract: "escalation", ContractVersion: "1",
			State: store.InstallationActive, Connections: map[string]string{"helpdesk": "conn_" + tenantID},
			Config: json.RawMessage(`{"k":"v"}`), CreatedAt: at(2 * time.Second), UpdatedAt: at(2 * time.Second),
		},
	}
	require.NoError(t, s.CreateTenant(ctx, f.tenant))
	require.NoError(t, s.CreateConnection(ctx, f.conn))
	require.NoError(t, s.CreateInstallation(ctx, f.inst))
	return f
}

func testPingAndDialect(t *testing.T, s store.Store) {
	require.NoError(t, s.Ping(context.Background()))
	require.Contains(t, []store.Dialect{store.DialectSQLite, store.DialectPostgres}, s.Dialect())
	require.NotNil(t, s.Driver())
}

func testMigrateIdempotent(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := seed(t, s, "t1")
	require.NoError(t, s.Migrate(ctx))
	require.NoError(t, s.Migrate(ctx))
	got, err := s.GetConnection(ctx, "t1", f.conn.ID)
	require.NoError(t, err, "data survives a second Migrate")
	require.Equal(t, f.conn.ID, got.ID)
}

func testTimestamps(t *testing.T, s store.Store) {
	ctx := context.Background()
	ts := time.Date(2031, 12, 31, 23, 59, 59, 999999999, time.FixedZone("X", -7*3600))
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "n", CreatedAt: ts}))
	got, err := s.GetTenant(ctx, "t1")
	require.NoError(t, err)
	require.Equal(t, ts.UTC().Truncate(time.Microsecond), got.CreatedAt, "UTC, truncated to the microsecond")
	require.Equal(t, time.UTC, got.CreatedAt.Location())

	// A zero CreatedAt is filled in by the store, not stored as year 1.
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "t2", Name: "n"}))
	got, err = s.GetTenant(ctx, "t2")
	require.NoError(t, err)
	require.False(t, got.CreatedAt.IsZero())
	require.WithinDuration(t, time.Now(), got.CreatedAt, time.Hour)
}

func fmtID(prefix string, i int) string { return fmt.Sprintf("%s%03d", prefix, i) }
