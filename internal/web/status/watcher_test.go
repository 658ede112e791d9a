package status_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/web/status"
)

// flags is a Recorder keeping one flag per provider, as the store does.
type flags map[string]bool

func (f flags) SetPartnerStatus(_ context.Context, s store.PartnerStatus) (bool, error) {
	if f[s.Provider] == s.Degraded {
		return false, nil
	}
	f[s.Provider] = s.Degraded
	return true, nil
}

// TestWatcherRecordsTransitionsNotChecks: a degraded partner is recorded
// once however often it is checked, and an idle one (its writes held
// back, too few calls for a verdict) is not taken for recovered; calls
// that succeed again are.
func TestWatcherRecordsTransitionsNotChecks(t *testing.T) {
	t.Parallel()
	f := setup(t)
	rec := flags{}
	w := status.NewWatcher(f.mon, rec, nil)
	check := func() []store.PartnerStatus {
		got, err := w.Check(t.Context())
		require.NoError(t, err)
		return got
	}
	require.Empty(t, check())
	f.calls("incidents", "transient", 25, 100*time.Millisecond)
	f.now = f.now.Add(time.Minute)
	got := check()
	require.Len(t, got, 1)
	require.Equal(t, store.PartnerStatus{Provider: "incidents", Degraded: true, Reason: "errors", ChangedAt: f.now}, got[0])
	f.now = f.now.Add(time.Minute)
	require.Empty(t, check(), "still degraded: no transition")

	// No calls for longer than the window: the banner clears, but no
	// verdict says the partner is healthy.
	f.now = f.now.Add(6 * time.Minute)
	check()
	f.now = f.now.Add(time.Minute)
	require.Empty(t, check())
	require.True(t, rec["incidents"])

	f.calls("incidents", "ok", 30, 100*time.Millisecond)
	f.now = f.now.Add(time.Minute)
	got = check()
	require.Len(t, got, 1)
	require.False(t, got[0].Degraded)
	require.False(t, rec["incidents"])
}

// TestWatcherRecoversOnlyWhenClearlyHealthy: a partner just under the
// error threshold is not yet recovered (it would flap at the line); one
// under half of it is.
func TestWatcherRecoversOnlyWhenClearlyHealthy(t *testing.T) {
	t.Parallel()
	f := setup(t)
	rec := flags{}
	w := status.NewWatcher(f.mon, rec, nil)
	check := func() []store.PartnerStatus {
		got, err := w.Check(t.Context())
		require.NoError(t, err)
		return got
	}
	check()
	f.calls("incidents", "transient", 10, 100*time.Millisecond)
	f.calls("incidents", "ok", 10, 100*time.Millisecond)
	f.now = f.now.Add(time.Minute)
	require.Len(t, check(), 1)
	require.True(t, rec["incidents"])

	f.calls("incidents", "ok", 40, 100*time.Millisecond) // 10 of 60 failed: under 0.2, over 0.1
	f.now = f.now.Add(time.Minute)
	require.Empty(t, f.mon.Degraded(), "the banner clears at the threshold")
	require.Empty(t, check(), "not yet clearly healthy")
	require.True(t, rec["incidents"])

	f.calls("incidents", "ok", 50, 100*time.Millisecond) // 10 of 110
	f.now = f.now.Add(time.Minute)
	got := check()
	require.Len(t, got, 1)
	require.False(t, got[0].Degraded)
}
