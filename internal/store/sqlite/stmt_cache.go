package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
)

// stmtCache holds the hot-path statements prepared once on one *sql.DB, so
// that a call per event does not parse and plan its SQL again (measured in
// bench_link_test.go). database/sql prepares a cached statement on each
// pooled connection the first time it runs there.
type stmtCache struct {
	db     *sql.DB
	mu     sync.RWMutex
	m      map[string]*sql.Stmt
	warmed atomic.Bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: make(map[string]*sql.Stmt)}
}

// lookup returns query's statement if it is already prepared, else nil. It
// never waits for a connection.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[query]
}

// get returns query's statement, preparing it on first use. Preparing is
// not retried after an error (say, before Migrate made the table): the
// next call tries again.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if s := c.lookup(query); s != nil {
		return s, nil
	}
	// Prepare without holding mu: on the writer, PrepareContext waits for
	// its one connection, and the transaction holding it may be about to
	// call lookup.
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[query]; ok {
		_ = s.Close() // lost a race to prepare it; keep the first
		return old, nil
	}
	c.m[query] = s
	return s, nil
}

// warm prepares every hot statement once, so transactions (which cannot
// prepare on the writer they hold) find them ready. Until it succeeds, each
// call tries again; a transaction meanwhile prepares its own.
func (c *stmtCache) warm(ctx context.Context) {
	if c.warmed.Load() {
		return
	}
	for _, q := range hotQueries {
		if _, err := c.get(ctx, q); err != nil {
			return
		}
	}
	c.warmed.Store(true)
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, s := range c.m {
		errs = append(errs, s.Close())
		delete(c.m, q)
	}
	return errors.Join(errs...)
}

// hotQueries are the statements run per event by the engine and the
// webhook ingress, and per batch by the event sweeper.
var hotQueries = []string{
	insertEventSQL, getEventSQL, setEventsStateSQL, listPendingEventsSQL, getConnectionSQL, lookupConnectionSQL, listInstallationsByConnectionSQL,
	getLinkSQL, upsertLinkSQL, markLinkUncertainSQL, acquireLeaseSQL, renewLeaseSQL, releaseLeaseSQL, claimPendingEventsSQL,
}

// dbConn is a pool (the writer or the readers) with its statement cache.
type dbConn struct {
	*sql.DB
	stmts *stmtCache
}

func (d dbConn) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	return d.stmts.get(ctx, query)
}

// txConn is a write transaction. It runs the writer's prepared statements
// bound to itself (tx.StmtContext reuses the statement already prepared on
// the writer's connection) and keeps each binding for the transaction's
// life; database/sql closes them when it ends.
type txConn struct {
	*sql.Tx
	writer *stmtCache
	mu     sync.Mutex
	bound  map[string]*sql.Stmt
}

func newTxConn(tx *sql.Tx, writer *stmtCache) *txConn {
	return &txConn{Tx: tx, writer: writer, bound: make(map[string]*sql.Stmt)}
}

func (t *txConn) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.bound[query]; ok {
		return s, nil
	}
	var s *sql.Stmt
	if ws := t.writer.lookup(query); ws != nil {
		s = t.StmtContext(ctx, ws)
	} else {
		// Not warmed yet: preparing on the writer would wait for the
		// connection this transaction holds, so prepare for this
		// transaction only.
		var err error
		if s, err = t.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
	}
	t.bound[query] = s
	return s, nil
}

// errRow is a scanner that fails with err, for a statement that could not
// be prepared.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func execPrepared(ctx context.Context, e execer, query string, args ...any) (sql.Result, error) {
	s, err := e.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

func queryPrepared(ctx context.Context, e execer, query string, args ...any) (*sql.Rows, error) {
	s, err := e.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

func queryRowPrepared(ctx context.Context, e execer, query string, args ...any) scanner {
	s, err := e.prepared(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return s.QueryRowContext(ctx, args...)
}
