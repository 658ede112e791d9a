package queue

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/store"
)

// whereArgs narrows params to jobs whose JSON args have every top-level
// field of argEquals equal to the string given (RunWaitingNow, CancelJobs).
func (q *Queue) whereArgs(params *river.JobListParams, argEquals map[string]string) (*river.JobListParams, error) {
	// Sorted so the SQL text, and River's cached template, is stable.
	for i, field := range slices.Sorted(maps.Keys(argEquals)) {
		if !argField.MatchString(field) {
			return nil, fmt.Errorf("%w: %q", ErrBadArgField, field)
		}
		// The trailing underscore keeps one name from being a prefix of
		// another (@…_1_ and @…_10_): River substitutes names textually.
		path, val := "accord_path_"+strconv.Itoa(i)+"_", "accord_val_"+strconv.Itoa(i)+"_"
		var sql string
		var pathArg string
		switch q.dialect {
		case store.DialectPostgres:
			sql = "args ->> CAST(@" + path + " AS text) = CAST(@" + val + " AS text)"
			pathArg = field
		default:
			sql = "json_extract(args, @" + path + ") = @" + val
			pathArg = "$." + field
		}
		params = params.Where(sql, river.NamedArgs{path: pathArg, val: argEquals[field]})
	}

	return params, nil
}

// CancelJobs ends the jobs of kind not yet finished whose JSON args have
// every top-level field of argEquals equal to the string given, and
// returns how many it ended. Waiting jobs (available, scheduled,
// retryable) are deleted, so no row keeps their args; a running or
// pending one is cancelled (River stops a running job when its worker
// returns, and its row goes with River's cleaner). An uninstall uses it to
// leave no work behind.
func (q *Queue) CancelJobs(ctx context.Context, kind string, argEquals map[string]string) (int, error) {
	params := river.NewJobListParams().
		Kinds(kind).
		States(JobStateAvailable, JobStateScheduled, JobStateRetryable, JobStatePending, JobStateRunning).
		OrderBy(river.JobListOrderByID, river.SortOrderAsc).
		First(runWaitingPage)
	params, err := q.whereArgs(params, argEquals)
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		res, err := q.b.jobList(ctx, params)
		if err != nil {
			return n, fmt.Errorf("queue: listing %s jobs to cancel: %w", kind, err)
		}
		var waiting []int64
		for _, job := range res.Jobs {
			switch job.State {
			case JobStateAvailable, JobStateScheduled, JobStateRetryable:
				waiting = append(waiting, job.ID)
			}
		}
		deleted := 0
		if len(waiting) > 0 {
			err := q.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				var err error
				deleted, err = q.DeleteWaitingTx(ctx, tx, waiting)
				return err
			})
			if err != nil {
				return n, err
			}
		}
		n += deleted
		for _, job := range res.Jobs {
			if slices.Contains(waiting, job.ID) && deleted == len(waiting) {
				continue
			}
			// Running, pending, or began running since it was listed.
			row, err := q.b.jobCancel(ctx, job.ID)
			if errors.Is(notFound(err), ErrJobNotFound) {
				continue
			}
			if err != nil {
				return n, fmt.Errorf("queue: cancelling job %d: %w", job.ID, err)
			}
			if row.State == JobStateCancelled || row.State == JobStateRunning {
				n++
			}
		}
		if len(res.Jobs) < runWaitingPage {
			return n, nil
		}
		params = params.After(res.LastCursor)
	}
}
