package sqlite

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
)

// OpenTest opens a migrated store on a fresh file in t.TempDir() and closes
// it when the test ends. For tests of this and other packages.
func OpenTest(t testing.TB) *Store {
	t.Helper()
	return OpenTestConfig(t, nil)
}

// OpenTestConfig is OpenTest with cfg (nil: defaults), say to inject a clock
// with Config.Now. Logs are discarded unless cfg.Logger is set.
func OpenTestConfig(t testing.TB, cfg *Config) *Store {
	t.Helper()
	ctx := context.Background()
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := Open(ctx, filepath.Join(t.TempDir(), "accord.db"), &c)
	if err != nil {
		t.Fatalf("sqlite.OpenTest: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("sqlite.OpenTest: %v", err)
	}
	return s
}
