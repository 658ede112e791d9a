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

// CancelJobs cancels the jobs of kind not yet finished (available,
// scheduled, retryable, pending and running) whose JSON args have every
// top-level field of argEquals equal to the string given, and returns how
// many it cancelled. A running job is told to stop (River cancels it when
// its worker returns); an uninstall uses it to leave no work behind.
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
		for _, job := range res.Jobs {
			if _, err := q.b.jobCancel(ctx, job.ID); err != nil {
				if errors.Is(notFound(err), ErrJobNotFound) {
					continue
				}
				return n, fmt.Errorf("queue: cancelling job %d: %w", job.ID, err)
			}
			n++
		}
		if len(res.Jobs) < runWaitingPage {
			return n, nil
		}
		params = params.After(res.LastCursor)
	}
}
