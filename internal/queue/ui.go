package queue

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"riverqueue.com/riverui"
)

// UI returns River UI (the job browser: queues, jobs, their errors, retry
// and cancel) serving under prefix, started with ctx and stopped when ctx
// ends. Mount it behind the operator roles: it reads and changes every
// tenant's jobs.
func (q *Queue) UI(ctx context.Context, prefix string, logger *slog.Logger) (http.Handler, error) {
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints:                q.b.uiEndpoints(),
		JobListHideArgsByDefault: true, // args name tenants' records
		Logger:                   logger,
		Prefix:                   prefix,
	})
	if err != nil {
		return nil, fmt.Errorf("queue: river ui: %w", err)
	}
	if err := h.Start(ctx); err != nil {
		return nil, fmt.Errorf("queue: starting river ui: %w", err)
	}
	return h, nil
}
