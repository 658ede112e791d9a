package telemetry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"regexp"
)

type requestIDKey struct{}

// RequestIDHeader is the header a request id is read from and returned in.
const RequestIDHeader = "X-Request-Id"

// WithRequestID returns ctx carrying id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// A caller-supplied id is echoed into logs and headers, so only a short,
// plain token is trusted; anything else is replaced.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// traceparent: version-traceid-parentid-flags (W3C Trace Context).
var traceparent = regexp.MustCompile(`^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$`)

// RequestIDMiddleware gives every request an id: the trace id of a W3C
// traceparent header, else a well-formed X-Request-Id, else a new random
// one. The id is returned in X-Request-Id and carried by the request context.
func RequestIDMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := ""
		if m := traceparent.FindStringSubmatch(r.Header.Get("traceparent")); m != nil && m[1] != "00000000000000000000000000000000" {
			id = m[1]
		} else if h := r.Header.Get(RequestIDHeader); validRequestID.MatchString(h) {
			id = h
		} else {
			id = NewRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(WithRequestID(r.Context(), id)))
	})
}

// NewRequestID returns a random 128-bit id in hex.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
