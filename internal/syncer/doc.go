// Package syncer runs contracts' schedule triggers: incremental sync.
//
// Per installation and schedule trigger, a run lists the partner objects
// changed since the last complete run (the watermark), in the manifest's
// pagination style, and stores each changed object as an event of type
// engine.SyncEventType. The engine applies those events exactly as it
// applies webhooks, so polling and webhooks share one per-record path:
// ordering by version, links, idempotent writes, outcomes, record errors,
// and echo suppression (a write whose values the partner already holds is
// not sent again).
//
// A page's events and the sync state after the page (cursor, newest
// version seen, counts) commit in one transaction, with a delivery job per
// event, or, in a process that runs workers, as pending events handed to
// the engine's fast path after the commit (the webhook ingress's outbox;
// the sweeper queues what a crash left pending). A run lists its next page
// only while the fast path's backlog has room, so a backfill runs just
// ahead of the writes instead of spilling to the sweeper. A crash resumes
// at the page that did not commit; a re-listed object whose content is
// unchanged is deduplicated by its content hash, so nothing is skipped and
// nothing is applied twice.
package syncer
