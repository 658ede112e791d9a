package sqlite

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ErrInUse is returned by Open when another Accord process (or another
// Store in this one) has the database open: SQLite runs one Accord process
// per database file.
var ErrInUse = errors.New("sqlite: database in use")

// fileMode is the mode of the database, its WAL, SHM and lock files: they
// hold tenant data and wrapped keys, readable by Accord's user alone.
const fileMode = 0o600

// fileLock is the advisory lock on <db>.lock that makes the database this
// process's alone. The kernel drops it when the process dies, so a crash
// never leaves a stale lock behind.
type fileLock struct{ f *os.File }

// lockFile takes the lock on path without waiting and writes this
// process's pid into the file, so a second process can name the first.
func lockFile(path, dbPath string) (*fileLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening lock file: %w", err)
	}
	if err := f.Chmod(fileMode); err != nil {
		f.Close()
		return nil, fmt.Errorf("sqlite: lock file mode: %w", err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("sqlite: locking %s: %w", path, err)
	}
	if !held {
		pid := "pid unknown"
		if b, err := os.ReadFile(path); err == nil {
			if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 0 {
				pid = "pid " + strconv.Itoa(n)
			}
		}
		f.Close()
		return nil, fmt.Errorf("%w: sqlite: %s is already in use by another Accord process (%s); "+
			"SQLite runs one Accord process per database — use PostgreSQL (--db postgres://…) to run several",
			ErrInUse, dbPath, pid)
	}
	// The pid is informational: a reader racing this write sees "pid
	// unknown", never a wrong pid.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &fileLock{f: f}, nil
}

// release drops the lock. The file stays: removing it would let a third
// process lock a new file while a second still waits on the old one.
func (l *fileLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
