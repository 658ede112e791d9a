package sim

import "net/http"

// idempotent is a stored response to replay for a repeated Idempotency-Key.
type idempotent struct {
	body     string // canonical request body
	status   int
	response []byte
}

// idempotencyKeys remembers the answer to each Idempotency-Key, as Stripe
// and most payment and incident APIs do: the same key with the same body
// replays the first answer (nothing is created twice), the same key with
// another body is refused. The caller holds its own lock over replay,
// create and remember, so two concurrent requests with one key create once.
type idempotencyKeys map[string]idempotent

// replay answers a request whose key was seen before and reports whether
// it did. An empty key is never seen.
func (k idempotencyKeys) replay(w http.ResponseWriter, key, canon string) bool {
	if key == "" {
		return false
	}
	prev, seen := k[key]
	if !seen {
		return false
	}
	if prev.body != canon {
		writeError(w, http.StatusUnprocessableEntity, "idempotency key reused with a different request body")
		return true
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Idempotent-Replayed", "true")
	w.WriteHeader(prev.status)
	_, _ = w.Write(prev.response)
	return true
}

// remember stores the answer to key (nothing for an empty key).
func (k idempotencyKeys) remember(key, canon string, status int, response []byte) {
	if key != "" {
		k[key] = idempotent{body: canon, status: status, response: response}
	}
}
