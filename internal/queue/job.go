package queue

import (
	"encoding/json"
	"time"

	"github.com/riverqueue/river/rivertype"
)

// JobState is where a job is in its life.
type JobState = rivertype.JobState

// The job states. Depth counts available, scheduled and retryable jobs.
const (
	JobStateAvailable = rivertype.JobStateAvailable
	JobStateScheduled = rivertype.JobStateScheduled
	JobStateRetryable = rivertype.JobStateRetryable
	JobStateRunning   = rivertype.JobStateRunning
	JobStateCompleted = rivertype.JobStateCompleted
	JobStateCancelled = rivertype.JobStateCancelled
	JobStateDiscarded = rivertype.JobStateDiscarded
	JobStatePending   = rivertype.JobStatePending
)

// Job is what an operator or the admin API sees of a job.
type Job struct {
	ID          int64
	Kind        string
	Queue       string
	State       JobState
	Attempt     int // attempts made; snoozes do not count
	MaxAttempts int
	Errors      []JobError // one per failed attempt, oldest first
	Args        json.RawMessage
	CreatedAt   time.Time
	ScheduledAt time.Time
	FinalizedAt time.Time // zero until completed, cancelled or discarded
}

// JobError is one failed attempt.
type JobError struct {
	At      time.Time
	Attempt int
	Error   string
}

func jobFromRow(r *rivertype.JobRow) Job {
	j := Job{
		ID:          r.ID,
		Kind:        r.Kind,
		Queue:       r.Queue,
		State:       r.State,
		Attempt:     r.Attempt,
		MaxAttempts: r.MaxAttempts,
		Args:        json.RawMessage(r.EncodedArgs),
		CreatedAt:   r.CreatedAt,
		ScheduledAt: r.ScheduledAt,
	}
	if r.FinalizedAt != nil {
		j.FinalizedAt = *r.FinalizedAt
	}
	for _, e := range r.Errors {
		// The trace stays out: it is for River's own debugging and can be
		// long; the admin API shows the message.
		j.Errors = append(j.Errors, JobError{At: e.At, Attempt: e.Attempt, Error: e.Error})
	}
	return j
}
