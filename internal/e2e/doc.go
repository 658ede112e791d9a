// Package e2e holds Accord's end-to-end tests: a real process (app.App, or
// the accord binary for the crash test) on SQLite or PostgreSQL, driven by
// the partner simulators of internal/sim over loopback and configured only
// through the admin API, as an operator would. The package has no code of
// its own; its tests check the promises DESIGN.md makes to users: one
// partner object per source object however often an event arrives, stale
// versions never applied, partner errors turned into waits or record errors
// with a remediation, and nothing lost across a crash.
package e2e
