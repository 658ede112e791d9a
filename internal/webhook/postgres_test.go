package webhook_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/postgres"
)

// backends are the databases every ingress test runs on.
func backends() map[string]func(testing.TB) store.Store {
	return map[string]func(testing.TB) store.Store{"sqlite": openSQLite, "postgres": openPostgres}
}

func openPostgres(t testing.TB) store.Store {
	dsn := os.Getenv("ACCORD_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("set ACCORD_TEST_POSTGRES=postgres://… to run the PostgreSQL tests")
	}
	st := postgres.OpenTestSchema(t, dsn)
	require.NoError(t, prepare(context.Background(), st))
	return st
}

func countEventsPostgres(t testing.TB, driver any) int {
	t.Helper()
	pool, ok := driver.(*pgxpool.Pool)
	require.True(t, ok, "unexpected store driver %T", driver)
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n))
	return n
}
