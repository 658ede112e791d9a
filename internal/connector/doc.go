// Package connector is the HTTP client Accord uses to call one partner API,
// built from the partner's provider manifest (spec.Provider).
//
// A Connector is built once per provider and shared by every tenant and
// worker: it owns one http.Client whose dialer refuses private, link-local
// and loopback addresses (an SSRF guard checked at dial time, so a DNS answer
// cannot sneak past it), pins the API version header, and records the
// partner's deprecation header on every response.
//
// Operations name an object of the manifest and follow its endpoints: path
// templates ({id}, {external_id}, and {field} taken from the document and
// removed from the body), bodies wrapped under Endpoint.Body, the idempotency
// key in Endpoint.IdempotencyHeader, results read at Item and IDPath, and
// lists paged in the manifest's style (cursor, page, offset or link).
//
// Credentials are not the connector's business: each call carries an
// Authorizer. APIKey, Bearer and Basic cover static secrets (AuthorizerFor
// builds the right one from the manifest); the OAuth code supplies its own,
// and may implement Refresher to get one refresh-and-retry on a 401.
//
// Errors steer the engine. A partner's refusal or a network failure is a
// *PartnerError carrying its class (spec.ClassAuth, ClassPermission,
// ClassValidation, ClassRateLimited, ClassTransient, ClassNotFound), the
// partner's message (never our secret) and its Retry-After. IsRetryable and
// RetryAfter answer the two questions a worker asks.
//
// Rate limits are per (tenant, provider): the engine asks Limiter.Reserve
// before a call and snoozes the job when it returns a wait, so a throttled
// tenant never holds a worker; on a 429 it calls Limiter.Backoff, which halves
// that tenant's rate and blocks it until Retry-After, then recovers
// additively towards the manifest's rate.
//
// The usual flow in a worker:
//
//	if wait := lim.Reserve(tenantID); wait > 0 {
//		return queue.Snooze(wait)
//	}
//	res, err := conn.Create(ctx, connector.Call{Object: "incident", Doc: doc, IdempotencyKey: key, Auth: auth})
//	if d, ok := connector.RetryAfter(err); ok || connector.IsRateLimited(err) {
//		lim.Backoff(tenantID, d)
//		return queue.Snooze(d)
//	}
package connector
