// Package uninstall removes an installation and leaves nothing of it
// behind, as one resumable job with its progress in the store.
//
// Start marks the installation uninstalled (the engine stops matching its
// events at once), records the uninstall and its audit entry, and queues
// the job in one transaction. The job runs the steps in order, each
// idempotent, committing the next step, the step's counts and an audit
// entry together after each: a crash re-runs at most the step it was in.
//
//	stop_intake          the connections only this installation uses are noted
//	cancel_jobs          their waiting deliveries and token refreshes are deleted
//	                     (running ones cancelled)
//	deregister_webhooks  the webhook subscriptions Accord registered at their
//	                     partners are deleted (a 404 is already gone; a
//	                     permanent refusal is recorded and the uninstall goes on)
//	revoke_tokens        they are disconnected through the connection lifecycle:
//	                     tokens revoked at the partner (RFC 7009), secrets wiped,
//	                     their webhooks answered 410 from then on
//	retain               the stored data waits for the contract's retention
//	                     (boundaries.retention, default 30 days; 0: at once)
//	purge_events         their events are deleted, batch by batch
//	purge_links          the installation's links
//	purge_record_errors  its record errors
//	delete_rows          the installation and the disconnected connections
//
// The audit log keeps who uninstalled what and how many rows each step
// removed, never the data. The uninstall row stays as the visible record.
package uninstall
