// Package sqlmigrate applies Accord's numbered, embedded SQL migrations and
// keeps their bookkeeping in the accord_migrations table, the same way for
// every dialect. A dialect supplies an Executor: its own SQL (the files and
// the bookkeeping statements) and its own way of serialising concurrent
// migrators; the order, the skip-if-recorded check and the record written
// in the same transaction as the migration live here once.
package sqlmigrate
