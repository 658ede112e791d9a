// Package dbtest runs a test against every store Accord supports: a fresh
// SQLite file always, and a fresh PostgreSQL schema when
// ACCORD_TEST_POSTGRES names a server (otherwise that half skips, saying
// how to enable it). For tests of packages built on the store; the store's
// own conformance suite is storetest.
package dbtest

import (
	"os"
	"testing"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/postgres"
	"github.com/accordhq/accord/internal/store/sqlite"
)

// Each runs fn as a parallel subtest per store: "sqlite" and "postgres".
func Each(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, sqlite.OpenTest(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := os.Getenv("ACCORD_TEST_POSTGRES")
		if dsn == "" {
			t.Skip("set ACCORD_TEST_POSTGRES=postgres://… to run the PostgreSQL tests")
		}
		fn(t, postgres.OpenTestSchema(t, dsn))
	})
}
