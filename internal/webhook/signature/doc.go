// Package signature verifies (and, for simulators and tests, produces) the
// signatures partners put on their webhooks.
//
// Each scheme lives in its own file and registers a constructor in init; a
// provider manifest names the scheme and its Options, and the webhook ingress
// builds it once with New:
//
//	s, err := signature.New("stripe", signature.Options{})
//	err = s.Verify(signature.FromHTTP(r, body), secrets, time.Now())
//
// Verification is constant-time (hmac.Equal), accepts any of several secrets
// so a secret can be rotated without dropping deliveries, accepts any of
// several signatures in one header where the scheme allows it, and rejects a
// timestamp outside the tolerance in either direction so that a captured
// request cannot be replayed later.
//
// Errors wrap ErrNoSignature, ErrBadSignature, ErrTimestamp or ErrBadSecret
// with a detail that names headers and formats but never a secret or an
// expected signature: they are safe to log and to return to the partner.
package signature
