// Package retention deletes what Accord no longer needs: done events past
// the retention window, expired OAuth states and expired leases. One
// periodic River job (kind accord_retention) does it, inserted by the
// elected leader only, so one process sweeps however many run.
package retention
