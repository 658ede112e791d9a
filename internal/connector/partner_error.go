package connector

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/accordhq/accord/internal/spec"
)

var (
	// ErrPreconditionFailed matches a *PartnerError with status 412: a
	// conditional update (If-Match) refused because the partner object
	// changed since the ETag the write was based on.
	ErrPreconditionFailed = errors.New("connector: precondition failed")
	// ErrNotFound is returned by FindByExternalID when the partner has no
	// object with that external id. A *PartnerError of class not_found
	// (a 404) also matches it with errors.Is.
	ErrNotFound = errors.New("connector: not found")
	// ErrUnknownObject is returned when a call names an object the manifest
	// does not declare.
	ErrUnknownObject = errors.New("connector: unknown object")
	// ErrUnsupported is returned when the object has no endpoint for the
	// operation (no update, no find_by_external_id, ...).
	ErrUnsupported = errors.New("connector: operation not declared for this object")
	// ErrMissingParam is returned when a path placeholder has no value: no
	// ID, no ExternalID, or no top-level field of that name in the document.
	ErrMissingParam = errors.New("connector: missing path parameter")
	// ErrResponseTooLarge is returned when a response body exceeds
	// Config.MaxResponseBytes.
	ErrResponseTooLarge = errors.New("connector: response body too large")
	// ErrBadResponse is returned when a successful response cannot be read
	// as the manifest describes it (not JSON, list not an array, ...).
	ErrBadResponse = errors.New("connector: unexpected response")
	// ErrBadBaseURL is returned by New when the manifest's base_url, once
	// interpolated, is not an absolute http(s) URL.
	ErrBadBaseURL = errors.New("connector: bad base_url")
	// ErrForeignLink is returned by List when a link-style next page points
	// at another origin than the base URL: following it would hand our
	// credentials to a third party.
	ErrForeignLink = errors.New("connector: next page link leaves the partner's origin")
	// ErrOutboundRefused is matched (errors.Is) by a call the outbound
	// address policy refused before anything was sent: the partner's
	// address is loopback (allowed only with allow_loopback_partners),
	// private or link-local (never allowed). The error is a *PartnerError
	// with Policy set and class validation: waiting will not change the
	// policy, so the engine files it instead of retrying.
	ErrOutboundRefused = errors.New("connector: outbound call refused by the address policy")
	// ErrBadPathSegment is returned when a value filling a path placeholder
	// is empty, "." or "..": escaped or not, it would address another
	// resource than the object (PATCH /recs/.. is PATCH /). It is the
	// record's data that is wrong, not the partner.
	ErrBadPathSegment = errors.New("connector: path parameter is not a usable path segment")
)

// PartnerError is a failed call the engine can act on: the partner refused
// it (Status is the HTTP status) or could not be reached (Status is 0, Class
// is transient and Err is the network error).
//
// Message is the partner's own message, read at the manifest's
// errors.message path, at most 500 characters, with any credential sent on
// the request scrubbed out.
type PartnerError struct {
	// Op names the call, e.g. "incident create".
	Op string
	// Class is one of spec.ClassAuth, ClassPermission, ClassValidation,
	// ClassRateLimited, ClassTransient, ClassNotFound.
	Class   string
	Status  int
	Message string
	// RetryAfter is the partner's Retry-After, 0 when it sent none.
	RetryAfter time.Duration
	// Policy is set when Accord's outbound address policy refused the call
	// (nothing was sent; errors.Is ErrOutboundRefused). Class is then
	// spec.ClassValidation, so a caller that only reads Class treats it as
	// permanent; Message names the setting to change, if any.
	Policy bool
	// Err is the underlying network error, the policy's
	// *AddressBlockedError, or the Refresher's error when a 401 could not
	// be cured by refreshing the credential.
	Err error
}

func (e *PartnerError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("connector: %s: %s: %s", e.Op, e.Class, e.Message)
	}
	return fmt.Sprintf("connector: %s: %s (HTTP %d): %s", e.Op, e.Class, e.Status, e.Message)
}

func (e *PartnerError) Unwrap() error { return e.Err }

// Is makes a not_found PartnerError match ErrNotFound.
func (e *PartnerError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Class == spec.ClassNotFound
	case ErrPreconditionFailed:
		return e.Status == http.StatusPreconditionFailed
	}
	return false
}

// Retryable reports whether the same call may succeed later unchanged:
// transient failures and rate limiting.
func (e *PartnerError) Retryable() bool {
	return e.Class == spec.ClassTransient || e.Class == spec.ClassRateLimited
}

// IsRetryable reports whether err is a *PartnerError that may succeed when
// retried unchanged (transient or rate limited). Auth, permission,
// validation and not_found need a change first (reconnect, new scope, fixed
// data), and any other error is not the partner's.
func IsRetryable(err error) bool {
	var pe *PartnerError
	return errors.As(err, &pe) && pe.Retryable()
}

// IsRateLimited reports whether err is a *PartnerError of class
// rate_limited: the caller should call Limiter.Backoff.
func IsRateLimited(err error) bool {
	var pe *PartnerError
	return errors.As(err, &pe) && pe.Class == spec.ClassRateLimited
}

// RetryAfter returns the partner's Retry-After carried by err, and whether
// there was one.
func RetryAfter(err error) (time.Duration, bool) {
	var pe *PartnerError
	if errors.As(err, &pe) && pe.RetryAfter > 0 {
		return pe.RetryAfter, true
	}
	return 0, false
}
