package queue

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/riverqueue/river"
)

// ErrBadArgField is returned by RunWaitingNow for an args field name that
// is not a plain identifier.
var ErrBadArgField = errors.New("queue: args field must be a plain identifier")

// argField is what RunWaitingNow accepts as a top-level args field: the
// name travels as a bound JSON path, and a plain identifier needs no
// quoting in either database's path syntax.
var argField = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// runWaitingPage is how many jobs RunWaitingNow lists at a time.
const runWaitingPage = 500

// RunWaitingNow makes the jobs of kind that wait for a later time
// (scheduled, including snoozed, and retryable) available to run now, if
// their JSON args have every top-level field of argEquals equal to the
// string given; an empty argEquals matches every waiting job of kind. It
// returns how many jobs it made available. Running, available and finished
// jobs are left alone.
//
// Jobs are made available in id (insertion) order, so River, which runs
// available jobs by scheduled time then id, starts them in that order.
//
// A job listed as waiting may reach its time, run and finish before it is
// made available; it then runs once more. Use it for kinds whose workers
// tolerate a repeat.
func (q *Queue) RunWaitingNow(ctx context.Context, kind string, argEquals map[string]string) (int, error) {
	return q.runWaitingNow(ctx, kind, argEquals, runWaitingPage)
}

func (q *Queue) runWaitingNow(ctx context.Context, kind string, argEquals map[string]string, page int) (int, error) {
	params := river.NewJobListParams().
		Kinds(kind).
		States(JobStateScheduled, JobStateRetryable).
		OrderBy(river.JobListOrderByID, river.SortOrderAsc).
		First(page)
	params, err := q.whereArgs(params, argEquals)
	if err != nil {
		return 0, err
	}

	made := 0
	for {
		res, err := q.b.jobList(ctx, params)
		if err != nil {
			return made, fmt.Errorf("queue: listing waiting %s jobs: %w", kind, err)
		}
		for _, job := range res.Jobs {
			row, err := q.b.jobRetry(ctx, job.ID)
			if errors.Is(notFound(err), ErrJobNotFound) {
				continue // deleted since listed: nothing to run
			}
			if err != nil {
				return made, fmt.Errorf("queue: running job %d now: %w", job.ID, err)
			}
			if row.State == JobStateAvailable {
				made++
			}
		}
		if len(res.Jobs) < page {
			return made, nil
		}
		params = params.After(res.LastCursor)
	}
}
