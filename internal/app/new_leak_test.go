package app

import (
	"context"
	"log/slog"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/queue"
)

// A New that failed after building the engine used to leave its link
// writers (and the store's and alerter's goroutines) running: a process
// that retries start-up, or a test suite, grew with every failure.
func TestFailedNewLeaksNoGoroutines(t *testing.T) {
	// Not parallel: it counts the process's goroutines.
	cfg := testConfig(t, "sqlite:"+filepath.Join(t.TempDir(), "accord.db"))
	cfg.AlertWebhook = "http://127.0.0.1:9/alerts"
	bad := &Options{Queue: &queue.Config{MaxAttempts: -1}} // fails in queue.New, after the engine
	// Warm up lazily started runtime goroutines first.
	_, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler), bad)
	require.Error(t, err)

	before := runtime.NumGoroutine()
	for range 5 {
		_, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler), bad)
		require.ErrorContains(t, err, "MaxAttempts")
	}
	// Goroutines that are stopping may take a moment to be gone; progress,
	// not a deadline, is what is waited on.
	deadline := time.Now().Add(30 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	require.LessOrEqual(t, runtime.NumGoroutine(), before+2, "five failed starts left goroutines behind")
}
