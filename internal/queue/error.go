package queue

import (
	"errors"
	"time"

	"github.com/riverqueue/river"
)

var (
	// ErrDuplicateKind is returned when a job kind (or one of its aliases)
	// is registered twice.
	ErrDuplicateKind = errors.New("queue: job kind already registered")
	// ErrJobNotFound is returned when no job has the id asked for.
	ErrJobNotFound = errors.New("queue: job not found")
	// ErrWrongTx is returned by the …Tx methods when the store transaction
	// belongs to another database than the Queue's.
	ErrWrongTx = errors.New("queue: transaction is not from the queue's database")
	// ErrUnsupportedDialect is returned by New for a store it cannot run on.
	ErrUnsupportedDialect = errors.New("queue: unsupported store dialect")
)

// Snooze returns the error a worker returns to run the job again after d
// without using up an attempt: for a partner's Retry-After or a connection
// waiting for reconnect. d of zero runs it again as soon as a worker is free.
func Snooze(d time.Duration) error { return river.JobSnooze(d) }

// Cancel returns the error a worker returns when err is permanent: the job
// is cancelled at once, never retried, and err is recorded on it.
func Cancel(err error) error { return river.JobCancel(err) }
