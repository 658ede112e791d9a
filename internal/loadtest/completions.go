package loadtest

import (
	"sync"
	"time"

	"github.com/accordhq/accord/internal/store"
)

// completions records when each event's delivery became final, as the
// engine reports it (engine.Deps.OnEventFinal): the moment the whole effect
// of the event is done, not when the first partner saw a request.
type completions struct {
	mu      sync.Mutex
	at      map[string]time.Time // partner event id → when final
	outcome map[string]string
	// n counts finals when at is nil: a backlog run of a million events
	// must not measure the bench's own map in the process's RSS.
	n int
}

// newCompletions records each event's time when keep is true, and only
// counts finals otherwise (a final reported twice then counts twice).
func newCompletions(keep bool) *completions {
	if !keep {
		return &completions{}
	}
	return &completions{at: map[string]time.Time{}, outcome: map[string]string{}}
}

func (c *completions) record(ev store.Event, outcome string) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at == nil {
		c.n++
		return
	}
	if _, ok := c.at[ev.DedupKey]; !ok {
		c.at[ev.DedupKey] = now
		c.outcome[ev.DedupKey] = outcome
	}
}

func (c *completions) get(id string) (time.Time, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.at[id]
	return at, c.outcome[id], ok
}

func (c *completions) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at == nil {
		return c.n
	}
	return len(c.at)
}
