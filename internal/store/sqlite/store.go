package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/internal/row"
)

// Synchronous is SQLite's synchronous pragma for the WAL journal.
type Synchronous string

const (
	// SynchronousFull fsyncs the WAL at every commit: a committed
	// transaction survives power loss. The default.
	SynchronousFull Synchronous = "FULL"
	// SynchronousNormal fsyncs only at checkpoints: commits are faster
	// (measured about twice the throughput), still never corrupt the file,
	// but the last transactions before a power loss or OS crash may be lost
	// even though they were acknowledged. Choose it only knowingly.
	SynchronousNormal Synchronous = "NORMAL"
)

// Config configures Open. A nil *Config means all defaults.
type Config struct {
	// BusyTimeout is how long a statement waits for a lock held by another
	// connection or process before failing with SQLITE_BUSY. Default 5s.
	BusyTimeout time.Duration
	// Synchronous is the durability mode. Default SynchronousFull.
	Synchronous Synchronous
	// MaxReaders caps the read-only pool. Default max(4, GOMAXPROCS).
	MaxReaders int
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
	if out.BusyTimeout <= 0 {
		out.BusyTimeout = 5 * time.Second
	}
	if out.Synchronous == "" {
		out.Synchronous = SynchronousFull
	}
	if out.MaxReaders <= 0 {
		out.MaxReaders = max(4, runtime.GOMAXPROCS(0))
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.Logger == nil {
		out.Logger = slog.Default()
	}
	return out
}

func (c *Config) validate() error {
	switch Synchronous(strings.ToUpper(string(c.Synchronous))) {
	case SynchronousFull, SynchronousNormal:
		c.Synchronous = Synchronous(strings.ToUpper(string(c.Synchronous)))
		return nil
	}
	return fmt.Errorf("sqlite: synchronous %q: want FULL or NORMAL", c.Synchronous)
}

// Store is a store.Store on one SQLite file.
type Store struct {
	queries
	writer      *sql.DB
	reader      *sql.DB
	writerStmts *stmtCache
	readerStmts *stmtCache
	lock        *fileLock
	cfg         Config
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and checks that the
// pragmas took. It does not migrate: call Migrate.
//
// The database is this Store's alone until Close: Open takes an advisory
// lock on <path>.lock and fails with ErrInUse while another process, or
// another Store in this one, holds it. New files (database, WAL, SHM,
// lock) get mode 0600 whatever the umask.
func Open(ctx context.Context, path string, cfg *Config) (s *Store, err error) {
	c := cfg.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	if path == "" || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") {
		// An in-memory database cannot use WAL nor be shared by the two
		// pools; a URI would bypass the pragmas set here.
		return nil, fmt.Errorf("sqlite: path %q: want a file path", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: resolving path: %w", err)
	}
	lock, err := lockFile(abs+".lock", abs)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = lock.release()
		}
	}()
	if err := createPrivate(abs); err != nil {
		return nil, err
	}
	busyMS := c.BusyTimeout.Milliseconds()

	common := url.Values{}
	common.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyMS))
	common.Add("_pragma", "foreign_keys(1)")

	wq := cloneValues(common)
	wq.Add("_pragma", "journal_mode(WAL)")
	wq.Add("_pragma", "synchronous("+string(c.Synchronous)+")")
	wq.Set("_txlock", "immediate")
	writer, err := sql.Open("sqlite", fileURI(abs, wq))
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening writer: %w", err)
	}
	// One writer: SQLite allows one anyway, and queueing in database/sql is
	// cheaper and fairer than spinning on SQLITE_BUSY.
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)

	want := map[string]string{
		"journal_mode": "wal",
		"busy_timeout": fmt.Sprint(busyMS),
		"foreign_keys": "1",
		"synchronous":  map[Synchronous]string{SynchronousFull: "2", SynchronousNormal: "1"}[c.Synchronous],
	}
	if err := checkPragmas(ctx, writer, want); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: writer: %w", err)
	}
	// SQLite creates the WAL and SHM files with the database's mode; set
	// it anyway, in case they were left by an older, laxer process.
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Chmod(abs+suffix, fileMode); err != nil && !errors.Is(err, fs.ErrNotExist) {
			writer.Close()
			return nil, fmt.Errorf("sqlite: %s file mode: %w", suffix, err)
		}
	}

	rq := cloneValues(common)
	rq.Set("mode", "ro")
	rq.Add("_pragma", "query_only(1)")
	reader, err := sql.Open("sqlite", fileURI(abs, rq))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: opening reader: %w", err)
	}
	reader.SetMaxOpenConns(c.MaxReaders)
	reader.SetMaxIdleConns(c.MaxReaders)
	if err := checkPragmas(ctx, reader, map[string]string{
		"journal_mode": "wal",
		"busy_timeout": fmt.Sprint(busyMS),
		"query_only":   "1",
	}); err != nil {
		reader.Close()
		writer.Close()
		return nil, fmt.Errorf("sqlite: reader: %w", err)
	}

	// Statements are prepared on first use, not here: before Migrate the
	// tables they name may not exist.
	ws, rs := newStmtCache(writer), newStmtCache(reader)
	s = &Store{
		lock:        lock,
		queries:     queries{read: dbConn{reader, rs}, write: dbConn{writer, ws}, now: c.Now},
		writer:      writer,
		reader:      reader,
		writerStmts: ws,
		readerStmts: rs,
		cfg:         c,
	}
	c.Logger.Debug("sqlite store opened", "path", abs, "synchronous", string(c.Synchronous))
	return s, nil
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// fileURI builds a SQLite URI filename; the path is escaped so that '?',
// '#' and '%' in it are not read as URI syntax.
func fileURI(abs string, q url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return "file:" + strings.TrimPrefix(u.String(), "file:")
}

// checkPragmas reads pragmas back: SQLite ignores a pragma it cannot apply
// (journal_mode=WAL on some file systems, for one) without an error.
func checkPragmas(ctx context.Context, db *sql.DB, want map[string]string) error {
	for name, w := range want {
		var got string
		if err := db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
			return fmt.Errorf("reading pragma %s: %w", name, err)
		}
		if !strings.EqualFold(got, w) {
			return fmt.Errorf("pragma %s is %q, want %q", name, got, w)
		}
	}
	return nil
}

// InTx runs fn in one BEGIN IMMEDIATE transaction on the writer. fn's error
// is returned as is; a panic rolls back and is re-raised.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) (err error) {
	s.writerStmts.warm(ctx)
	sqlTx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: beginning transaction: %w", err)
	}
	committed := false
	defer func() {
		if committed {
			return
		}
		rbErr := sqlTx.Rollback()
		if p := recover(); p != nil {
			panic(p)
		}
		if rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			err = errors.Join(err, fmt.Errorf("sqlite: rolling back: %w", rbErr))
		}
	}()
	conn := newTxConn(sqlTx, s.writerStmts)
	tx := &Tx{queries: queries{read: conn, write: conn, now: s.now}, tx: sqlTx}
	if err := fn(ctx, tx); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return wrapErr("committing", err)
	}
	committed = true
	return nil
}

// AppendAudit runs in its own transaction: reading the chain's head and
// appending to it must not interleave with another append.
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

// Ping checks both pools.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.writer.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping writer: %w", err)
	}
	if err := s.reader.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping reader: %w", err)
	}
	return nil
}

// Dialect returns store.DialectSQLite.
func (s *Store) Dialect() store.Dialect { return store.DialectSQLite }

// Driver returns the writer *sql.DB, for River's riversqlite driver.
func (s *Store) Driver() any { return s.writer }

// Close closes the reader pool, then the writer (the last connection to
// close checkpoints the WAL into the main file), then releases the file
// lock: only then may another process open the database.
func (s *Store) Close() error {
	return errors.Join(s.readerStmts.close(), s.writerStmts.close(), s.reader.Close(), s.writer.Close(),
		s.lock.release())
}

// createPrivate creates the database file with mode 0600 if it does not
// exist yet, before SQLite would create it with the umask's mode. An
// existing file keeps the mode its operator gave it.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: creating database file: %w", err)
	}
	// OpenFile's mode is masked by the umask; Chmod's is not.
	return errors.Join(f.Chmod(fileMode), f.Close())
}
