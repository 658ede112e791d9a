// Package sqlite implements store.Store on an embedded SQLite database
// (modernc.org/sqlite, pure Go).
//
// One process owns the file. Writes go through ONE connection (a *sql.DB
// capped at one open connection, BEGIN IMMEDIATE), which SQLite would
// serialise anyway: holding the write lock from BEGIN means a transaction
// never fails half-way with SQLITE_BUSY on lock upgrade. Reads outside a
// transaction go to a separate read-only pool, which WAL lets run beside the
// writer. River shares the writer (Store.Driver).
//
// Durability: synchronous=FULL by default, so a committed transaction
// survives power loss; Config.Synchronous may trade that for speed.
//
// Storage conventions: timestamps are INTEGER Unix nanoseconds in UTC,
// truncated to the microsecond (what PostgreSQL keeps, so both stores return
// the same values); JSON is TEXT checked with json_valid. A foreign key that
// points nowhere (an event for an unknown connection, a row for an unknown
// tenant) is reported as store.ErrNotFound.
//
// The per-event statements (events, links, connection lookups, leases) are
// prepared once per pool and reused, in transactions too (stmt_cache.go).
//
// Inside InTx, use only the Tx: calling a Store write method from fn waits
// for the writer connection fn is holding, and deadlocks.
package sqlite
