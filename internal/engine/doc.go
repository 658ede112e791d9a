// Package engine turns accepted events into partner writes.
//
// One job per event (DeliverArgs) finds the installations whose triggers
// match, and for each action: takes the per-object lock, checks the event's
// version against the link's watermark (an older version is skipped as
// stale, never applied), maps the source object to the target document,
// and creates or updates the partner object through the link table with an
// idempotency key. Partner errors steer the job: rate limits snooze it
// without using an attempt, transient errors retry with backoff inside the
// contract's retry window, auth and permission errors pause the connection's
// writes (the job waits, nothing is dropped), and validation errors become
// record errors an admin can fix and retry. When the retry window is spent
// the record is dead-lettered with a record error and an alert.
//
// Re-running a job is always safe: an action already applied at this
// version is skipped through the link watermark, and a create whose link
// write was lost is found again by external id or deduplicated by the
// partner through the idempotency key.
package engine
