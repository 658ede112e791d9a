//go:build !linux

package e2e

import "os/exec"

// dieWithParent is a no-op off Linux (no parent-death signal).
func dieWithParent(*exec.Cmd) {}
