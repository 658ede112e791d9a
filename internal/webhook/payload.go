package webhook

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on what a signed body may hold. Past them the body is refused
// with 400 at once: the databases would refuse it on every retry.
const (
	// MaxJSONDepth is the deepest nesting of arrays and objects accepted.
	// SQLite's json_valid gives up past 1,000 levels; nothing a partner
	// sends legitimately comes near 512.
	MaxJSONDepth = 512
	// MaxIDBytes bounds the event id, type and object id: they are indexed
	// text columns, and a PostgreSQL index row holds at most ~2.7 kB.
	MaxIDBytes = 512
	// maxNumberBytes bounds one JSON number's text, and maxExponent its
	// exponent: PostgreSQL's jsonb stores numbers as numeric and fails with
	// "value overflows numeric format" far below what JSON can spell.
	maxNumberBytes = 1000
	maxExponent    = 10_000
)

// replacement is U+FFFD, what every unstorable character becomes.
const replacement = "\uFFFD"

// cleanJSON returns body as JSON text both stores accept, or a
// *MalformedError. It does not validate the grammar (the event parser
// decodes the result and refuses what is not JSON); it removes what
// decodes fine in Go but a database rejects:
//   - each run of invalid UTF-8 bytes becomes one U+FFFD (PostgreSQL
//     refuses them in jsonb);
//   - the escape \u0000 and unpaired surrogate escapes become \ufffd
//     (jsonb refuses both);
//   - nesting deeper than MaxJSONDepth and numbers past what PostgreSQL's
//     numeric holds are refused.
//
// The body's bytes are otherwise kept as sent (key order, spacing), and
// body itself is never modified: the signature was computed over it.
func cleanJSON(body []byte) ([]byte, error) {
	if !utf8.Valid(body) {
		body = bytes.ToValidUTF8(body, []byte(replacement))
	}
	var out []byte // nil until the first rewrite
	depth := 0
	inString := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if inString {
			switch c {
			case '"':
				inString = false
			case '\\':
				if n, ok := surrogateFix(body, i); n > 0 {
					if !ok && out == nil {
						out = append(make([]byte, 0, len(body)), body[:i]...)
					}
					if !ok {
						out = append(out, `\ufffd`...)
					} else if out != nil {
						out = append(out, body[i:i+n]...)
					}
					i += n - 1
					continue
				}
				// Any other escape: its second byte cannot end the string.
				if i+1 < len(body) {
					if out != nil {
						out = append(out, c, body[i+1])
					}
					i++
					continue
				}
			}
		} else {
			switch {
			case c == '"':
				inString = true
			case c == '[' || c == '{':
				depth++
				if depth > MaxJSONDepth {
					return nil, malformed("body is nested deeper than %d levels", MaxJSONDepth)
				}
			case c == ']' || c == '}':
				depth--
			case c == '-' || (c >= '0' && c <= '9'):
				end := i
				for end < len(body) && strings.IndexByte("+-0123456789.eE", body[end]) >= 0 {
					end++
				}
				if err := checkNumber(body[i:end]); err != nil {
					return nil, err
				}
				if out != nil {
					out = append(out, body[i:end]...)
				}
				i = end - 1
				continue
			}
		}
		if out != nil {
			out = append(out, c)
		}
	}
	if out == nil {
		return body, nil
	}
	return out, nil
}

// surrogateFix looks at the \uXXXX escape at body[i]. It returns the length
// of the escape and whether it may stay: \u0000 and a surrogate half not
// paired with its other half may not. n is 0 when the escape is malformed
// (the JSON decoder reports that).
func surrogateFix(body []byte, i int) (n int, ok bool) {
	r, good := hexEscape(body, i)
	if !good {
		return 0, true
	}
	switch {
	case r == 0:
		return 6, false
	case r >= 0xD800 && r <= 0xDBFF:
		// A high half must be followed at once by a low half; the pair then
		// stays as written.
		if lo, good := hexEscape(body, i+6); good && lo >= 0xDC00 && lo <= 0xDFFF {
			return 12, true
		}
		return 6, false
	case r >= 0xDC00 && r <= 0xDFFF:
		return 6, false
	}
	return 6, true
}

// hexEscape decodes the \uXXXX escape at body[i].
func hexEscape(body []byte, i int) (rune, bool) {
	if i+6 > len(body) || body[i] != '\\' || body[i+1] != 'u' {
		return 0, false
	}
	v, err := strconv.ParseUint(string(body[i+2:i+6]), 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(v), true
}

func checkNumber(num []byte) error {
	if len(num) > maxNumberBytes {
		return malformed("body holds a number longer than %d characters", maxNumberBytes)
	}
	if e := bytes.IndexAny(num, "eE"); e >= 0 {
		exp, err := strconv.Atoi(strings.TrimPrefix(string(num[e+1:]), "+"))
		if err == nil && (exp > maxExponent || exp < -maxExponent) {
			return malformed("body holds a number with an exponent beyond ±%d", maxExponent)
		}
	}
	return nil
}

// cleanText makes an id read from a header or the body storable: invalid
// UTF-8 and NUL become U+FFFD, as in the payload, so a redelivery of the
// same event maps to the same key.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, replacement)
	return strings.ReplaceAll(s, "\x00", replacement)
}

// isForm reports whether the request carries an HTML form body, as Slack's
// slash commands and interactivity requests do.
func isForm(h http.Header) bool {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// formJSON turns a form body into the JSON document the rest of the
// pipeline reads: the payload field's JSON when there is one (Slack
// interactivity), else the fields as one flat object of strings (a field
// sent twice keeps its first value). It runs after the signature was
// verified over the raw body.
func formJSON(body []byte) ([]byte, error) {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, malformed("form body cannot be parsed")
	}
	if p, ok := vals["payload"]; ok {
		if len(p) == 0 || !json.Valid([]byte(p[0])) {
			return nil, malformed("form field payload is not valid JSON")
		}
		return []byte(p[0]), nil
	}
	flat := make(map[string]string, len(vals))
	for k, v := range vals {
		if len(v) > 0 {
			flat[k] = v[0]
		}
	}
	doc, err := json.Marshal(flat)
	if err != nil {
		return nil, malformed("form body cannot be represented as JSON")
	}
	return doc, nil
}
