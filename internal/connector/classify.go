package connector

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/accordhq/accord/internal/spec"
)

// maxMessageLen bounds PartnerError.Message, in characters.
const maxMessageLen = 500

// maxRetryAfter caps a partner's Retry-After so that a hostile or broken
// value cannot park a job forever (or overflow a Duration).
const maxRetryAfter = 7 * 24 * time.Hour

// classify maps an error response to a class: the manifest's rules in order,
// then the defaults every HTTP API shares.
func classify(errs *spec.Errors, status int, body []byte) string {
	if errs != nil {
		for _, r := range errs.Rules {
			if r.Status.Match(status) && (r.BodyContains == "" || bytes.Contains(body, []byte(r.BodyContains))) {
				return r.Class
			}
		}
	}
	switch {
	case status == http.StatusUnauthorized:
		return spec.ClassAuth
	case status == http.StatusForbidden:
		return spec.ClassPermission
	case status == http.StatusNotFound, status == http.StatusGone:
		return spec.ClassNotFound
	case status == http.StatusTooManyRequests:
		return spec.ClassRateLimited
	case status == http.StatusRequestTimeout, status >= 500:
		return spec.ClassTransient
	default:
		// 400, 422 and every other refusal: sending the same request again
		// will not help, so it is permanent until the data changes.
		return spec.ClassValidation
	}
}

// fallbackMessagePaths are tried when the manifest names no message path or
// the body does not have it: the shapes most APIs use.
var fallbackMessagePaths = []string{"error.message", "message", "error_description", "error", "errors.0.message", "detail", "title"}

// partnerMessage extracts the partner's message from an error body.
func partnerMessage(errs *spec.Errors, status int, body []byte, secrets []string) string {
	msg := ""
	var doc any
	if err := json.Unmarshal(body, &doc); err == nil {
		paths := fallbackMessagePaths
		if errs != nil && errs.Message != "" {
			paths = append([]string{errs.Message}, paths...)
		}
		for _, p := range paths {
			if v, ok := lookup(doc, p); ok {
				if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
					msg = s
					break
				}
			}
		}
	} else if t := strings.TrimSpace(string(body)); t != "" && utf8.ValidString(t) && !strings.HasPrefix(t, "<") {
		// Plain text, not an HTML error page from a proxy.
		msg = t
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return sanitize(redact(msg, secrets))
}

// redact replaces every credential sent on the request with [redacted]:
// partners do echo a bad API key back in their message.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// sanitize makes a partner's text safe to log and show: one line, no control
// characters, at most maxMessageLen characters.
func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if utf8.RuneCountInString(s) <= maxMessageLen {
		return s
	}
	r := []rune(s)
	return string(r[:maxMessageLen-1]) + "…"
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date,
// relative to now. It returns 0 for an absent, malformed or past value.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		return time.Duration(secs) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	return min(max(t.Sub(now), 0), maxRetryAfter)
}
