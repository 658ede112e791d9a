package store

import (
	"context"
	"time"
)

// EventCounts counts a connection's events received in a window.
type EventCounts struct {
	// Outcomes counts done events by their outcome ("" for a done event
	// stored without one).
	Outcomes map[string]int
	// InFlight counts events not done yet (pending or queued).
	InFlight int
}

// Total is every event counted, done or not.
func (c EventCounts) Total() int {
	n := c.InFlight
	for _, v := range c.Outcomes {
		n += v
	}
	return n
}

// EventHour counts a connection's events received in one hour.
type EventHour struct {
	Start  time.Time // UTC, on the hour
	Counts EventCounts
}

// HealthQueries are the reads behind the Integration Health page. Each is
// answered from an index that leads with the tenant and the connection or
// installation, so its cost grows with that installation's rows in the
// window, not with the table.
type HealthQueries interface {
	// CountEvents counts the events received on the connection at or
	// after since, by state and outcome.
	CountEvents(ctx context.Context, tenantID, connectionID string, since time.Time) (EventCounts, error)
	// CountEventsByHour is CountEvents hour by hour: one entry per hour
	// with events, oldest first (the first hour counts from since only).
	CountEventsByHour(ctx context.Context, tenantID, connectionID string, since time.Time) ([]EventHour, error)
	// LastEventWithOutcome returns the newest (by ReceivedAt) done event
	// received on the connection with that outcome; ErrNotFound if there
	// is none.
	LastEventWithOutcome(ctx context.Context, tenantID, connectionID, outcome string) (Event, error)
	// CountRecordErrors counts the installation's record errors with the
	// status ("" for any), by class.
	CountRecordErrors(ctx context.Context, tenantID, installationID string, status RecordErrorStatus) (map[string]int, error)
}
