package e2e

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes a child `accord serve` die with the test process:
// a test binary killed mid-run (a timeout) must not leave servers behind
// holding ports and database connections.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
