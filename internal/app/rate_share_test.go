package app

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/queue"
)

// With N worker processes each used to offer a partner the manifest's
// whole rate (N times it together). Each takes 1/N, N read from the
// workers' heartbeats.
func TestRateShareFollowsLiveWorkers(t *testing.T) {
	t.Parallel()
	dsn := os.Getenv("ACCORD_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("set ACCORD_TEST_POSTGRES=postgres://… to run the PostgreSQL tests")
	}
	cfg := testConfig(t, postgresTestSchema(t, dsn))
	a, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler), &Options{})
	require.NoError(t, err)
	require.NoError(t, a.Start(context.Background()))
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	require.Eventually(t, func() bool { return a.rateShare() == 1 }, 30*time.Second, 50*time.Millisecond, "alone: the whole rate")

	ok, err := a.Store.AcquireProcessLease(context.Background(), queue.ProcessLeasePrefix+"another-worker", "another-worker", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	require.Eventually(t, func() bool { return a.rateShare() == 0.5 }, 30*time.Second, 50*time.Millisecond, "two workers: half each")
}
