package contracttest

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// Exchange is one request a partner received and its answer, as the mock
// or the tape saw it. Secrets are redacted from Header.
type Exchange struct {
	Provider string
	Method   string
	// Path is the path below the provider's base URL, with its query.
	Path   string
	Header http.Header
	// Body is the decoded JSON request body (nil when empty), or its
	// text when it is not JSON.
	Body   any
	Status int
	// Answer is the decoded JSON response body, or its text.
	Answer any
	// Err is why no answer came (a request the cassette does not have).
	Err string
}

// String is the exchange as one line: method, path, body.
func (x Exchange) String() string {
	s := x.Method + " " + x.Path
	if x.Body != nil {
		b, _ := json.Marshal(x.Body)
		s += " " + string(b)
	}
	return s
}

// journal collects the exchanges of every partner of one case, in order.
type journal struct {
	mu  sync.Mutex
	all []Exchange
}

func (j *journal) add(x Exchange) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.all = append(j.all, x)
}

// since returns the exchanges after the first n.
func (j *journal) since(n int) []Exchange {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Exchange(nil), j.all[min(n, len(j.all)):]...)
}

func (j *journal) len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.all)
}

// decodeBody is a request or response body as the journal keeps it.
func decodeBody(b []byte) any {
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return string(b)
	}
	return v
}

// secretHeader reports whether a header carries a credential: it is never
// shown, logged or written to a cassette.
func secretHeader(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"authorization", "cookie", "token", "secret", "key", "signature", "password", "session"} {
		if strings.Contains(n, s) && n != "idempotency-key" {
			return true
		}
	}
	return false
}

// Redacted is what replaces a secret.
const Redacted = "<redacted>"

// redactHeader returns h with every credential replaced by Redacted.
func redactHeader(h http.Header) http.Header {
	out := http.Header{}
	for k, vs := range h {
		if secretHeader(k) {
			out[k] = []string{Redacted}
			continue
		}
		out[k] = append([]string(nil), vs...)
	}
	return out
}
