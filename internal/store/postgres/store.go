package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

// Config configures Open. A nil *Config means all defaults.
type Config struct {
	// Schema, when set, is the search_path of every pooled connection:
	// Accord's and River's tables live there. It must exist. Default: the
	// DSN's (or the server's) search_path.
	Schema string
	// MaxConns caps the pool. Default: pgxpool's (max(4, NumCPU)) or the
	// DSN's pool_max_conns.
	MaxConns int32
	// Now is the clock for timestamps the store fills in. Default time.Now.
	Now func() time.Time
	// Logger receives operational messages. Default slog.Default().
	Logger *slog.Logger
}

func (c *Config) withDefaults() Config {
	var out Config
	if c != nil {
		out = *c
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.Logger == nil {
		out.Logger = slog.Default()
	}
	return out
}

// Store is a store.Store on a PostgreSQL pool.
type Store struct {
	queries
	pool  *pgxpool.Pool
	coord *pgxpool.Pool // object leases (see Open)
	cfg   Config
}

var _ store.Store = (*Store)(nil)

// Open connects a pool to dsn and pings it. It does not migrate: call
// Migrate.
func Open(ctx context.Context, dsn string, cfg *Config) (*Store, error) {
	c := cfg.withDefaults()
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors can echo the DSN, password included.
		return nil, errors.New("postgres: parsing DSN: invalid connection string")
	}
	if c.Schema != "" {
		// A startup parameter, so it holds on every connection the pool
		// ever opens, River's queries included.
		pcfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{c.Schema}.Sanitize()
	}
	if c.MaxConns > 0 {
		pcfg.MaxConns = c.MaxConns
	}
	// A webhook answered 2xx must survive a crash: every session waits for
	// the WAL flush at commit, whatever the server's or role's default.
	// A startup parameter, so River's sessions on this pool get it too.
	pcfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	// The query exec mode is left at pgx's default, QueryExecModeCacheStatement:
	// each connection prepares a statement the first time it runs it and
	// reuses it after, so the hot path needs no explicit Prepare. A DSN's
	// default_query_exec_mode (say, for PgBouncer) still wins.
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: creating pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connecting: %w", err)
	}
	if err := checkDurable(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	// Object leases are coordination, not data: a lease lost to a server
	// crash only lets another process take the object, and every holder
	// loses its connection in that crash anyway (its fence then fails at
	// the next renewal). Their commits skip the WAL flush wait, which
	// halves the fsyncs per partner write; every other write stays
	// synchronous.
	ccfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		pool.Close()
		return nil, errors.New("postgres: parsing DSN: invalid connection string")
	}
	for k, v := range pcfg.ConnConfig.RuntimeParams {
		ccfg.ConnConfig.RuntimeParams[k] = v
	}
	ccfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	ccfg.MaxConns = max(4, pcfg.MaxConns/4)
	coord, err := pgxpool.NewWithConfig(ctx, ccfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: creating lease pool: %w", err)
	}
	return &Store{queries: queries{read: pool, write: pool, coord: coord, now: c.Now}, pool: pool, coord: coord, cfg: c}, nil
}

// ErrNotDurable is returned by Open when the server does not run sessions
// with synchronous_commit=on (a pooler stripping startup parameters, say).
var ErrNotDurable = errors.New("postgres: commits are not durable")

// checkDurable reads synchronous_commit back: a proxy or pooler may drop
// the startup parameter without an error.
func checkDurable(ctx context.Context, pool *pgxpool.Pool) error {
	var got string
	if err := pool.QueryRow(ctx, "SHOW synchronous_commit").Scan(&got); err != nil {
		return fmt.Errorf("postgres: reading synchronous_commit: %w", err)
	}
	if got != "on" {
		return fmt.Errorf("%w: synchronous_commit is %q, want \"on\" (an acknowledged webhook must survive a crash; "+
			"check the server, role and any connection pooler)", ErrNotDurable, got)
	}
	return nil
}

// InTx runs fn in one READ COMMITTED transaction. fn's error is returned as
// is; a panic rolls back and is re-raised.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) (err error) {
	pgTx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: beginning transaction: %w", err)
	}
	committed := false
	defer func() {
		if committed {
			return
		}
		// Roll back even when ctx is done: the connection must go back to
		// the pool clean.
		rbErr := pgTx.Rollback(context.WithoutCancel(ctx))
		if p := recover(); p != nil {
			panic(p)
		}
		if rbErr != nil && !errors.Is(rbErr, pgx.ErrTxClosed) {
			err = errors.Join(err, fmt.Errorf("postgres: rolling back: %w", rbErr))
		}
	}()
	tx := &Tx{queries: queries{read: pgTx, write: pgTx, coord: pgTx, now: s.now}, tx: pgTx}
	if err := fn(ctx, tx); err != nil {
		return err
	}
	if err := pgTx.Commit(ctx); err != nil {
		return wrapErr("committing", err)
	}
	committed = true
	return nil
}

// AppendAudit runs in its own transaction: locking the chain's head and
// appending to it go together.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error) {
	return row.InTx(ctx, s.InTx, func(ctx context.Context, tx store.Tx) (store.AuditEntry, error) {
		return tx.AppendAudit(ctx, e)
	})
}

// ConsumeOAuthState runs in its own transaction so an ambiguous state
// deletes nothing.
func (s *Store) ConsumeOAuthState(ctx context.Context, state string) (store.OAuthState, error) {
	return row.InTx(ctx, s.InTx, func(ctx context.Context, tx store.Tx) (store.OAuthState, error) {
		return tx.ConsumeOAuthState(ctx, state)
	})
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Dialect returns store.DialectPostgres.
func (s *Store) Dialect() store.Dialect { return store.DialectPostgres }

// Driver returns the *pgxpool.Pool, for River's riverpgxv5 driver.
func (s *Store) Driver() any { return s.pool }

// Close closes the pool, waiting for connections in use to be returned.
// LeasePool is the pool object leases are written through (tests).
func (s *Store) LeasePool() *pgxpool.Pool { return s.coord }

func (s *Store) Close() error {
	s.coord.Close()
	s.pool.Close()
	return nil
}
