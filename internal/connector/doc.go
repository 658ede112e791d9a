// Package connector is the HTTP client Accord uses to call one partner API,
// built from the partner's provider manifest (spec.Provider).
//
// A Connector is built once per provider and shared by every tenant and
// worker: it owns one http.Client whose dialer refuses private, link-local
// and loopback addresses (an SSRF guard checked at dial time, so a DNS answer
// cannot sneak past it) and which follows no redirect, pins the API version
// header, and records the partner's deprecation header on every response.
// NewHTTPClient hands the same client to callers speaking another protocol
// to partners (the OAuth token endpoints): every partner call goes through
// it.
//
// Operations name an object of the manifest and follow its endpoints: path
// templates ({id}, {external_id}, and {field} taken from the document and
// removed from the body), bodies wrapped under Endpoint.Body, the idempotency
// key in Endpoint.IdempotencyHeader, results read at Item and IDPath, and
// lists paged in the manifest's style (cursor, page, offset or link).
//
// Credentials are not the connector's business: each call carries an
// Authorizer, applied once to the request the connector builds, never by a
// transport (which would re-apply it on every hop). APIKey, Bearer and Basic cover static secrets (AuthorizerFor
// builds the right one from the manifest); the OAuth code supplies its own,
// and may implement Refresher to get one refresh-and-retry on a 401.
//
// Errors steer the engine. A partner's refusal or a network failure is a
// *PartnerError carrying its class (spec.ClassAuth, ClassPermission,
// ClassValidation, ClassRateLimited, ClassTransient, ClassNotFound), the
// partner's message (never our secret) and its Retry-After. IsRetryable and
// RetryAfter answer the two questions a worker asks.
//
// Rate limits are per (tenant, provider). The engine asks Limiter.Reserve
// before a call, keyed by what it is about to write, and snoozes the job
// for the wait it returns: each waiter gets a slot of its own, so a
// throttled tenant never holds a worker and its jobs do not wake as a herd;
// the job coming back with the same key finds its slot and goes. On a 429
// it calls Limiter.Backoff, which holds the tenant until Retry-After (and
// may halve its rate, at most once per window, never below a quarter of
// the manifest's), then recovers additively towards the manifest's rate.
//
// A call refused by the outbound address policy (loopback without
// allow_loopback_partners, private and link-local always) is a
// *PartnerError with Policy set and class validation, matching
// ErrOutboundRefused; nothing was sent. A path value that is empty, "." or
// ".." is refused with ErrBadPathSegment before anything is sent.
//
// The usual flow in a worker:
//
//	if wait := lim.Reserve(tenantID, objectKey); wait > 0 {
//		return queue.Snooze(wait)
//	}
//	res, err := conn.Create(ctx, connector.Call{Object: "incident", Doc: doc, IdempotencyKey: key, Auth: auth})
//	if d, ok := connector.RetryAfter(err); ok || connector.IsRateLimited(err) {
//		lim.Backoff(tenantID, d)
//		return queue.Snooze(d)
//	}
package connector
