package connector

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
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

// FuzzExpandPath feeds hostile ids and path fields: the expanded path has
// exactly the template's segments, never a dot segment, and the value
// round-trips through one escaped segment.
func FuzzExpandPath(f *testing.F) {
	for _, s := range []string{"inc_1", "..", ".", "", "../admin", "a/b", "a?b=c#d", "%2e%2e", "%2F", "é/…", " ", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, tmpl := range []string{"/recs/{id}/notes", "/recs/{id}"} {
			out, err := expandPath(tmpl, v, "", nil)
			if v == "" || v == "." || v == ".." {
				if !errors.Is(err, ErrBadPathSegment) {
					t.Fatalf("%q: want ErrBadPathSegment, got %v", v, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%q: %v", v, err)
			}
			if strings.Contains(out+"/", "/../") || strings.Contains(out+"/", "/./") || strings.ContainsAny(out, "?#") {
				t.Fatalf("%q expanded to %q", v, out)
			}
			seg := strings.TrimSuffix(strings.TrimPrefix(out, "/recs/"), "/notes")
			if strings.Contains(seg, "/") {
				t.Fatalf("%q added a segment: %q", v, out)
			}
			back, err := url.PathUnescape(seg)
			if err != nil || back != v {
				t.Fatalf("%q does not round-trip: %q (%v)", v, seg, err)
			}
		}
	})
}

// FuzzFormEncode feeds documents whose keys and values come from partners
// and webhooks: the form must parse back, every pair must belong to one of
// the document's top-level fields, and a key's brackets or an '&' or '='
// inside a value must never split one field into another.
func FuzzFormEncode(f *testing.F) {
	f.Add([]byte(`{"metadata":{"a[b]":"x&y=z"},"items":[{"price":"p"},null,[1,2]]}`))
	f.Add([]byte(`{"k]":"v","[":"","x":{"":true}}`))
	f.Add([]byte(`{"n":1e300,"s":"\u0000\r\n"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var doc map[string]any
		if json.Unmarshal(raw, &doc) != nil || doc == nil {
			return
		}
		form, err := formEncode(raw)
		if err != nil {
			t.Fatalf("a JSON object did not encode: %v", err)
		}
		vals, err := url.ParseQuery(string(form))
		if err != nil {
			t.Fatalf("%q does not parse back: %v", form, err)
		}
		for k := range vals {
			top, _, _ := strings.Cut(k, "[")
			// A top-level key that itself holds '[' reads back cut short,
			// for Stripe as for us: it still names that field.
			if _, ok := doc[top]; !ok && !hasKeyWithPrefix(doc, top+"[") {
				t.Fatalf("key %q of %q belongs to no field of the document", k, form)
			}
		}
	})
}

func hasKeyWithPrefix(doc map[string]any, prefix string) bool {
	for k := range doc {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}
