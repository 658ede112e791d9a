package engine

// Final outcomes. An action's is counted once in accord_actions_total when
// its event's delivery is final (not when a run snoozes or retries); an
// event's is counted once in accord_event_outcomes_total and stored on the
// event row.
const (
	// outcomeApplied: the partner object now holds this event's version
	// (written by this run, or by an earlier run of the same event).
	outcomeApplied = "applied"
	// outcomeUnchanged: nothing to write: a create-only action whose
	// partner object already exists. Counts as applied for the event.
	outcomeUnchanged = "unchanged"
	// outcomeStale: a newer version of the source object was already
	// written; this one is skipped so it cannot overwrite it.
	outcomeStale = "stale"
	// outcomeFiltered: the trigger's condition was false, or an
	// update-only action found no linked partner object to update.
	outcomeFiltered = "filtered"
	// outcomeNoInstallation: no installation of this tenant listens to
	// this event on this connection.
	outcomeNoInstallation = "no_installation"
	// outcomeFailed: a record error was filed; an admin can fix and retry.
	outcomeFailed = "failed"
)

// Reasons a run did not finish an action yet, the values of
// accord_action_retries_total{reason}. None is final.
const (
	retryTransient = "retried"   // a transient partner error; retried with backoff
	retryThrottled = "throttled" // the tenant's rate limit or a Retry-After; parked until it passes
	retryPaused    = "paused"    // the connection or installation is paused; waits for resume
	retryBusy      = "busy"      // another job holds the object; waits its turn
	retryUncertain = "uncertain" // an earlier write's answer never came; waits for it to settle
)

// eventTally combines the final outcomes of one event's actions.
type eventTally struct {
	listened bool // some installation's trigger takes this event type on this connection
	actions  []actionFinal
}

type actionFinal struct {
	labels  actionLabels
	outcome string
}

func (t *eventTally) add(l actionLabels, outcome string) {
	t.actions = append(t.actions, actionFinal{labels: l, outcome: outcome})
}

// outcome is the event's final outcome: applied if any action applied, else
// failed if any failed, else stale, else filtered.
func (t *eventTally) outcome() string {
	if !t.listened {
		return outcomeNoInstallation
	}
	has := map[string]bool{}
	for _, a := range t.actions {
		has[a.outcome] = true
	}
	switch {
	case has[outcomeApplied], has[outcomeUnchanged]:
		return outcomeApplied
	case has[outcomeFailed]:
		return outcomeFailed
	case has[outcomeStale]:
		return outcomeStale
	default:
		return outcomeFiltered
	}
}

// failed reports whether any action filed a record error.
func (t *eventTally) failed() bool {
	for _, a := range t.actions {
		if a.outcome == outcomeFailed {
			return true
		}
	}
	return false
}
