package engine

import (
	"time"

	"github.com/accordhq/accord/internal/store"
)

// order is an event's place in its source object's history: the source
// version first, then the time Accord received it. Events with equal
// versions, and every event of a provider that declares no version (all
// zero), are so applied in receipt order: the last received wins.
type order struct {
	version int64
	at      int64 // ReceivedAt in Unix nanoseconds
}

func (o order) less(p order) bool {
	if o.version != p.version {
		return o.version < p.version
	}
	return o.at < p.at
}

func eventOrder(ev store.Event) order {
	return order{version: ev.ObjectVersion, at: receipt(ev.ReceivedAt)}
}

// receipt is a receipt time at the precision both stores keep
// (microseconds), so the event the fast path holds in memory and the same
// event read back by a queued job have one order.
func receipt(t time.Time) int64 { return t.Truncate(time.Microsecond).UnixNano() }

func linkOrder(l store.Link) order { return order{version: l.Version, at: l.EventAt} }
