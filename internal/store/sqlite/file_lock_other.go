//go:build !unix

package sqlite

import "os"

// tryLock is not enforced where flock does not exist: the check is a
// guard against a mistake, not a security boundary.
func tryLock(*os.File) (bool, error) { return true, nil }
