// Package storetest is the conformance suite every store.Store passes: one
// set of behaviours, run over SQLite and PostgreSQL, so the engine never
// depends on which database it runs on.
package storetest
