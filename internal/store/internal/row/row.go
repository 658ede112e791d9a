package row

import (
	"encoding/json"
	"fmt"
	"time"
)

// DefaultLimit is the page size of a list call given a limit <= 0.
const DefaultLimit = 100

// Limit returns n, or DefaultLimit when n <= 0.
func Limit(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return n
}

// OrNow returns t, or now() when t is zero.
func OrNow(t time.Time, now func() time.Time) time.Time {
	if t.IsZero() {
		return now()
	}
	return t
}

// Stamps fills in a new row's timestamps: a zero created is now(), a zero
// updated is created.
func Stamps(created, updated time.Time, now func() time.Time) (time.Time, time.Time) {
	created = OrNow(created, now)
	if updated.IsZero() {
		updated = created
	}
	return created, updated
}

// JSON is the argument for a JSON document column: an empty document is
// stored as NULL.
func JSON(m json.RawMessage) any {
	if len(m) == 0 {
		return nil
	}
	return string(m)
}

// DecodeJSON reads a JSON document column back: NULL is a nil document.
func DecodeJSON(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return json.RawMessage(b)
}

// EncodeConnections encodes an installation's connections as a JSON object,
// {} for nil: the column is NOT NULL.
func EncodeConnections(conns map[string]string) (string, error) {
	if conns == nil {
		conns = map[string]string{}
	}
	b, err := json.Marshal(conns)
	return string(b), err
}

// DecodeConnections reads EncodeConnections's encoding; {} reads as nil, so
// what was created with nil reads back nil.
func DecodeConnections(b []byte) (map[string]string, error) {
	var conns map[string]string
	if err := json.Unmarshal(b, &conns); err != nil {
		return nil, fmt.Errorf("decoding connections: %w", err)
	}
	if len(conns) == 0 {
		return nil, nil
	}
	return conns, nil
}

// Scopes returns the granted scopes to store: an empty list for nil, as the
// column is NOT NULL.
func Scopes(scopes []string) []string {
	if scopes == nil {
		return []string{}
	}
	return scopes
}

// NilIfEmpty returns nil for an empty list, so that a connection created
// without scopes reads back as it was.
func NilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
