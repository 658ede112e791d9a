package webhook

import (
	"encoding/json"
	"io"
	"net/http"
)

func writeStatus(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// retryAfter is what a refused request is told to wait, in seconds: long
// enough for in-flight bodies to drain, short enough that a partner's
// retry does not add much latency.
const retryAfter = "1"

// writeRetryLater answers 503 with Retry-After: we are busy, not broken,
// and the partner's retry will get through.
func writeRetryLater(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", retryAfter)
	writeError(w, http.StatusServiceUnavailable, msg)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	writeStatus(w, code, string(b))
}
