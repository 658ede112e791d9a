package store

import (
	"encoding/json"
	"time"
)

// UninstallState is where an uninstall is.
type UninstallState string

// Uninstall states.
const (
	// UninstallRunning: steps remain that run now.
	UninstallRunning UninstallState = "running"
	// UninstallRetaining: intake is stopped, jobs cancelled, tokens
	// revoked and secrets wiped; the stored data waits for PurgeAfter.
	UninstallRetaining UninstallState = "retaining"
	// UninstallDone: nothing of the installation remains but this row
	// and the audit log.
	UninstallDone UninstallState = "done"
)

// Uninstall is the progress of one installation's uninstall. It holds
// what was done and counted, never the data removed.
type Uninstall struct {
	TenantID       string
	InstallationID string
	Contract       string
	Actor          string
	State          UninstallState
	// Step is the next step to run (the uninstall package names them).
	Step string
	// Steps is the log of finished steps as a JSON array.
	Steps json.RawMessage
	// PurgeAfter is when the stored events, links and record errors go.
	PurgeAfter time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}
