package engine

import (
	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/store"
)

// DeliverArgs is the job that applies one accepted event to every matching
// installation's actions.
type DeliverArgs struct {
	TenantID string `json:"tenant_id"`
	EventID  string `json:"event_id"`
	// RecordErrorID is set when an admin retries a record error: success
	// resolves it, failure reopens it instead of filing another.
	RecordErrorID string `json:"record_error_id,omitempty"`
	// ConnectionID, ObjectID and ObjectVersion copy the event's, so a
	// worker can announce the version it delivers before any I/O: newer
	// versions of one object in flight together then go first (see
	// objectVersions). Empty in jobs queued before they existed.
	ConnectionID  string `json:"connection_id,omitempty"`
	ObjectID      string `json:"object_id,omitempty"`
	ObjectVersion int64  `json:"object_version,omitempty"`
	// ReceivedAt is the event's receipt time in Unix nanoseconds: it orders
	// equal versions (see order).
	ReceivedAt int64 `json:"received_at,omitempty"`
	// TestInstallation marks a test event (see DeliverTest): delivered to
	// this installation only, even in state setup, and not counted as
	// traffic.
	TestInstallation string `json:"test_installation,omitempty"`
}

// order is the event's place in its object's history as far as the args
// know it, announced before the event is read.
func (a DeliverArgs) order() order { return order{version: a.ObjectVersion, at: a.ReceivedAt} }

// KindDeliver is the job kind of DeliverArgs.
const KindDeliver = "accord_deliver_event"

// Kind implements river.JobArgs.
func (DeliverArgs) Kind() string { return KindDeliver }

// InsertOpts gives delivery jobs an attempt budget large enough that the
// contract's retry window, not a count, decides when to give up.
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1000, Queue: river.QueueDefault}
}

// NewEventJob is the delivery job of an accepted event. It carries the
// event's object and version, which lets out-of-order events that arrive
// together be applied newest first.
func NewEventJob(e store.Event) river.InsertManyParams {
	args := argsOf(e)
	opts := args.InsertOpts()
	return river.InsertManyParams{Args: args, InsertOpts: &opts}
}

// argsOf is the delivery job of ev.
func argsOf(ev store.Event) DeliverArgs {
	return DeliverArgs{TenantID: ev.TenantID, EventID: ev.ID, ConnectionID: ev.ConnectionID, ObjectID: ev.ObjectID,
		ObjectVersion: ev.ObjectVersion, ReceivedAt: receipt(ev.ReceivedAt)}
}
