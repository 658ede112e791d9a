package connector

import "errors"

// Errors an Authorizer (or its Refresher) returns, wrapped, to steer the
// caller. They are part of the Authorizer contract: the engine branches on
// them and on nothing of the OAuth flows.
var (
	// ErrNeedsReconnect: the connection cannot be used until an admin
	// reconnects it (its grant was revoked or expired, it lacks a required
	// scope, it was disconnected). Its state already says so; the caller
	// pauses the connection's writes (jobs wait, nothing is dropped).
	ErrNeedsReconnect = errors.New("connector: connection needs reconnect")
	// ErrAuthUnavailable: no credential could be obtained for a reason
	// that is not the tenant's (the token endpoint refused Accord's own
	// client, failed with a 5xx, or could not be reached). The tenant's
	// grant is intact: retry with backoff, never pause the connection; the
	// operator has been alerted.
	ErrAuthUnavailable = errors.New("connector: credential temporarily unavailable")
)
