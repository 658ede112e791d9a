package contracttest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"
)

// tape is a partner seen through a recording: it forwards each request to
// a round tripper (the sandbox through the guarded outbound client, a
// go-vcr recorder around it, or a recorder replaying a cassette) and
// journals the exchange. The engine's connector talks to the tape on
// loopback; the tape's own outbound hop is the one the dial guard watches.
type tape struct {
	provider string
	// upstream is the sandbox base URL; in replay, sandboxURL(provider).
	upstream *url.URL
	rt       http.RoundTripper
	journal  *journal
}

var _ http.Handler = (*tape)(nil)

// sandboxURL is the base URL a cassette names a provider by: recordings
// keep neither the sandbox's host nor its path prefix, so a cassette
// replays whatever sandbox it was recorded from.
func sandboxURL(provider string) string { return "http://" + provider + ".sandbox" }

// errNotInCassette is what a replayed request the cassette lacks gets.
var errNotInCassette = errors.New("the cassette has no exchange for this request: record it again with accord test --record")

func (t *tape) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	x := Exchange{Provider: t.provider, Method: r.Method, Path: r.URL.RequestURI(), Header: redactHeader(r.Header), Body: decodeBody(raw)}
	u := strings.TrimRight(t.upstream.String(), "/") + r.URL.RequestURI()
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u, bytes.NewReader(raw))
	if err != nil {
		x.Err = err.Error()
		t.fail(w, x, err)
		return
	}
	for k, vs := range r.Header {
		out.Header[k] = vs
	}
	resp, err := t.rt.RoundTrip(out)
	if err != nil {
		if errors.Is(err, cassette.ErrInteractionNotFound) {
			err = errNotInCassette
		}
		x.Err = err.Error()
		t.fail(w, x, err)
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	if err != nil {
		x.Err = err.Error()
		t.fail(w, x, err)
		return
	}
	x.Status, x.Answer = resp.StatusCode, decodeBody(body)
	t.journal.add(x)
	for k, vs := range resp.Header {
		if k != "Content-Length" {
			w.Header()[k] = vs
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

// fail answers 502: to the connector the partner is unreachable, which is
// what a request that cannot be forwarded or replayed amounts to; the
// runner reports the exchange's Err.
func (t *tape) fail(w http.ResponseWriter, x Exchange, err error) {
	x.Status = http.StatusBadGateway
	t.journal.add(x)
	http.Error(w, "accord test: "+err.Error(), http.StatusBadGateway)
}

// openCassette starts a go-vcr recorder on file (…/name.yaml): recording
// through real, or replaying only what file holds. bases maps each
// sandbox's base URL to its provider, so recorded URLs name the provider
// instead of the sandbox; secretParams are query parameters that carry
// credentials. Every header or parameter that carries a credential is
// redacted before the cassette is written.
func openCassette(file string, record bool, real http.RoundTripper, bases map[string]string, secretParams []string) (*recorder.Recorder, error) {
	mode := recorder.ModeReplayOnly
	if record {
		mode = recorder.ModeRecordOnly
	}
	scrub := func(i *cassette.Interaction) error {
		for base, provider := range bases {
			if rest, ok := strings.CutPrefix(i.Request.URL, strings.TrimRight(base, "/")); ok {
				i.Request.URL = sandboxURL(provider) + rest
				i.Request.Host = provider + ".sandbox"
				break
			}
		}
		i.Request.URL = redactQuery(i.Request.URL, secretParams)
		i.Request.RequestURI = ""
		i.Request.Form = nil
		i.Request.Headers = redactHeader(i.Request.Headers)
		i.Response.Headers = redactHeader(i.Response.Headers)
		return nil
	}
	rec, err := recorder.New(strings.TrimSuffix(file, ".yaml"),
		recorder.WithMode(mode),
		recorder.WithRealTransport(real),
		recorder.WithSkipRequestLatency(true),
		recorder.WithHook(scrub, recorder.AfterCaptureHook),
		recorder.WithMatcher(func(r *http.Request, i cassette.Request) bool { return matchRecorded(r, i, secretParams) }),
	)
	if err != nil {
		return nil, fmt.Errorf("opening cassette %s: %w", file, err)
	}
	return rec, nil
}

// matchRecorded is the replay matcher: same method, same URL (query in
// any order, credentials aside) and the same JSON body. Headers are not
// compared: the recording's credentials are redacted.
func matchRecorded(r *http.Request, i cassette.Request, secretParams []string) bool {
	if r.Method != i.Method || redactQuery(r.URL.String(), secretParams) != redactQuery(i.URL, secretParams) {
		return false
	}
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body)) // the next candidate reads it again
	}
	return sameJSON(body, []byte(i.Body))
}

// redactQuery returns u with its query sorted and the values of params
// redacted.
func redactQuery(u string, params []string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := parsed.Query()
	for _, p := range params {
		if q.Has(p) {
			q.Set(p, Redacted)
		}
	}
	parsed.RawQuery = q.Encode()
	return parsed.String()
}

func sameJSON(a, b []byte) bool {
	if len(bytes.TrimSpace(a)) == 0 || len(bytes.TrimSpace(b)) == 0 {
		return len(bytes.TrimSpace(a)) == len(bytes.TrimSpace(b))
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}
