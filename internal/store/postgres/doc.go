// Package postgres implements store.Store on PostgreSQL with pgx/v5 and a
// pgxpool, for deployments where many Accord processes share one database.
//
// Storage conventions: timestamps are timestamptz (microsecond precision;
// values are truncated to the microsecond before they are sent, so both
// stores return the same values); JSON is jsonb, except the audit log's
// detail, which is text because it is hashed byte for byte. A foreign key
// that points nowhere (an event for an unknown connection, a row for an
// unknown tenant) is reported as store.ErrNotFound.
//
// Config.Schema puts Accord's tables (and River's, which share the
// search_path) in a schema of their own; OpenTestSchema gives every test a
// fresh one.
package postgres
