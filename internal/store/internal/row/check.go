package row

import (
	"fmt"
	"time"

	"github.com/accordhq/accord/internal/store"
)

// EventState returns the state InsertEvent stores: store.EventPending for
// an empty one; any other must pass CheckEventState.
func EventState(prefix, op string, state store.EventState) (store.EventState, error) {
	if state == "" {
		return store.EventPending, nil
	}
	return state, CheckEventState(prefix, op, state)
}

// CheckEventState rejects a state other than the store.Event* ones, before
// the CHECK constraint would with a less helpful error.
func CheckEventState(prefix, op string, state store.EventState) error {
	switch state {
	case store.EventPending, store.EventQueued, store.EventDone:
		return nil
	}
	return fmt.Errorf("%s: %s: unknown event state %q", prefix, op, state)
}

// CheckTTL rejects a lease ttl that would not outlive its acquisition.
func CheckTTL(prefix, op string, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("%s: %s: ttl %s: want > 0", prefix, op, ttl)
	}
	return nil
}

// CheckOAuthState rejects a state that could never expire.
func CheckOAuthState(prefix, op string, s store.OAuthState) error {
	if s.ExpiresAt.IsZero() {
		return fmt.Errorf("%s: %s: ExpiresAt is required", prefix, op)
	}
	return nil
}

// EventRank orders the event states: an event only moves to a state of a
// higher rank (pending 0, queued 1, done 2). SetEventsState passes the
// target's rank to SQL that computes the stored state's the same way.
func EventRank(state store.EventState) int {
	switch state {
	case store.EventQueued:
		return 1
	case store.EventDone:
		return 2
	}
	return 0
}
