package connector

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/accordhq/accord/internal/spec"
)

// FuzzPartnerMessage feeds hostile error bodies: the message must stay
// bounded, printable and free of the secret.
func FuzzPartnerMessage(f *testing.F) {
	f.Add([]byte(`{"error":{"detail":"bad `+testSecret+`"}}`), 422)
	f.Add([]byte("plain\r\ninjected: header"), 400)
	f.Add([]byte(`{"errors":[{"message":{"nested":true}}]}`), 500)
	f.Add([]byte(strings.Repeat("ü", 2000)), 403)
	errs := &spec.Errors{Message: "error.detail"}
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		msg := partnerMessage(errs, status, body, []string{testSecret})
		if strings.Contains(msg, testSecret) {
			t.Fatalf("secret in %q", msg)
		}
		if utf8.RuneCountInString(msg) > maxMessageLen || strings.ContainsAny(msg, "\r\n") {
			t.Fatalf("unbounded or multi-line message %q", msg)
		}
	})
}

// FuzzNextLink feeds hostile Link headers; it must not panic.
func FuzzNextLink(f *testing.F) {
	f.Add(`<https://a.example/x?page=2>; rel="next"`)
	f.Add(`<,>; rel=next, <"">; rel="a next"`)
	f.Add(`<`)
	f.Fuzz(func(t *testing.T, v string) {
		_ = nextLink([]string{v})
		_ = parseRetryAfter(v, testNow)
		_ = classify(nil, http.StatusTeapot, []byte(v))
	})
}
