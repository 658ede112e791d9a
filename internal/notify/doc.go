// Package notify tells the host product about integration events: signed
// change notifications (the Standard Webhooks scheme) to the endpoints a
// tenant registers, and REST hooks, the subscribe/unsubscribe pattern
// iPaaS platforms (Zapier, Make, Workato) use instead of polling.
//
// Events are caught where their state is written, whoever writes it:
// Observe wraps the store, and a transaction that moves a connection's
// state, pauses or resumes an installation, or opens or resolves a record
// error also writes, in the same transaction, one pending delivery per
// endpoint that wants the event (a transactional outbox: a notification
// exists if and only if its change committed). The Relay hands pending
// deliveries to the queue; a delivery job signs and posts one, and River
// retries it with backoff. The deliveries are also the endpoint's log.
//
// Signing: every endpoint has its own secret (whsec_…, sealed by the
// vault, shown once). Rotating it keeps the previous one signing too, for
// a grace period, so receivers can switch without losing a message: the
// webhook-signature header then carries both signatures.
package notify
