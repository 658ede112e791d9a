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
// Hostile input is bounded. A body is read into a buffer that grows with
// what arrives (never with the declared length) and every growth is
// reserved from one budget of bytes in flight (Config.MaxBytesInFlight);
// requests per connection id are capped (Config.MaxConcurrentPerConnection).
// Past either, a request gets 503 with Retry-After. A verified body is
// stored as JSON both databases accept: each run of invalid UTF-8 and every
// \u0000 or unpaired surrogate escape becomes U+FFFD, ids get the same
// treatment, and nesting past MaxJSONDepth or ids past MaxIDBytes are
// refused with 400 (a 500 would have the partner retry a body that can
// never be stored). A Slack-style form body (application/x-www-form-urlencoded)
// is verified as sent, then read as its payload field's JSON, or as a flat
// object of its fields. For schemes that sign neither a timestamp nor a
// delivery id (github, shopify, plain hmac) events are deduplicated on a
// hash of the signed body, so a captured request replayed under a new
// delivery id is a duplicate. Rejected signatures are logged at most once
// per connection every 10 s, with the count held back.
//
// A provider whose manifest sets webhooks.batch sends a list of events in
// one signed body (HubSpot). The signature is verified once over the body;
// each element is then parsed with the manifest's locations relative to
// it, stored as its own event under its own dedup key (its event id, or for
// body-hash schemes the hash of the element), and all of a body's new
// events commit in one transaction: all or none. Unknown types are ignored
// and counted, a repeated element is a duplicate, a malformed element
// refuses the whole body (400, naming its index), and more than max_batch
// elements are refused with 413.
//
// Responses:
//
//	202 {"status":"accepted","event_id":"evt_…"}  stored, job enqueued
//	200 {"status":"duplicate"}                     event id seen before for this connection
//	202 {"status":"ignored"}                       event type the provider manifest does not list
//	202 {"status":"accepted","accepted":n,"duplicate":n,"ignored":n,"event_ids":[…]}
//	                                               a batched body (200 and "duplicate" when nothing was new)
//	400 malformed body or a missing id/type        401 bad or replayed signature
//	404 unknown connection                         410 disconnected connection
//	413 body over the provider's max_body          500 storage failure or commit timeout (the partner retries)
//	503 + Retry-After: over the body budget or the per-connection cap, or shutting down
package webhook
