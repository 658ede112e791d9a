package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5"
)

// OpenTestSchema creates a fresh schema accord_test_<random> in the database
// at dsn, opens a migrated store whose every connection uses it as
// search_path, and drops the schema (River's tables in it included) when the
// test ends. Parallel tests and concurrent CI runs never see each other.
// For tests of this and other packages.
func OpenTestSchema(t testing.TB, dsn string) *Store {
	t.Helper()
	return OpenTestSchemaConfig(t, dsn, nil)
}

// OpenTestSchemaConfig is OpenTestSchema with cfg (nil: defaults), say to
// inject a clock with Config.Now. cfg.Schema is replaced by the fresh
// schema; logs are discarded unless cfg.Logger is set.
func OpenTestSchemaConfig(t testing.TB, dsn string, cfg *Config) *Store {
	t.Helper()
	ctx := context.Background()
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "accord_test_" + hex.EncodeToString(b[:])

	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("postgres.OpenTestSchema: connecting: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("postgres.OpenTestSchema: creating schema: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("postgres.OpenTestSchema: dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("postgres.OpenTestSchema: dropping schema %s: %v", schema, err)
		}
	})

	c.Schema = schema
	s, err := Open(ctx, dsn, &c)
	if err != nil {
		t.Fatalf("postgres.OpenTestSchema: %v", err)
	}
	// Registered after the drop, so it runs before it: the pool must be
	// closed before its schema goes.
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("postgres.OpenTestSchema: %v", err)
	}
	return s
}
