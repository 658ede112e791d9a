// Package webhook is Accord's ingress: POST /hooks/{connection_id}.
//
// Every request goes through the same short path: look up the connection
// (cached for a few seconds), read the body up to the provider's limit,
// verify the signature with the provider's scheme (internal/webhook/signature),
// pull the event id, type, object id and object version from where the
// provider manifest says they are, and hand the event to the committer.
//
// The committer stores the event row and enqueues its job in one
// transaction before the request is answered, so a 2xx means the event is
// durable. Concurrent requests share that transaction (group commit): one
// transaction and one fsync carry many webhooks, which is what lets a
// single SQLite file take thousands of webhooks per second with
// synchronous=FULL. A batch that fails is retried item by item, so one bad
// event fails only its own request. Most of a commit's CPU on SQLite is
// River's job insert; a Queue that also implements FastQueue (River's
// InsertManyFastTx) cuts a commit's CPU per event by about a quarter.
//
// Responses:
//
//	202 {"status":"accepted","event_id":"evt_…"}  stored, job enqueued
//	200 {"status":"duplicate"}                     event id seen before for this connection
//	202 {"status":"ignored"}                       event type the provider manifest does not list
//	400 malformed body or a missing id/type        401 bad or replayed signature
//	404 unknown connection                         410 disconnected connection
//	413 body over the provider's max_body          500 storage failure (the partner retries)
package webhook
