//go:build !unix

package loadtest

import "time"

// processCPU is unknown off unix; the table then shows 0.
func processCPU() time.Duration { return 0 }

// postgresCPU is unknown off unix.
func postgresCPU(bool) time.Duration { return 0 }
