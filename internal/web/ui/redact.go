package ui

import (
	"encoding/json"
	"regexp"
	"strings"
)

// sensitiveKey matches the names of fields that carry credentials or
// personal identifiers; their values never leave in an evidence bundle.
var sensitiveKey = regexp.MustCompile(`(?i)(pass|secret|token|auth|api_?key|cookie|session|signature|credential|ssn|card|iban|phone)`)

var emailPattern = regexp.MustCompile(`([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})`)

const redacted = "[redacted]"

// redactJSON returns the document with every sensitive field's value
// replaced and e-mail addresses masked (a***@example.com). A document
// that is not JSON is dropped whole: it cannot be checked.
func redactJSON(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return redacted
	}
	return redactValue(v)
}

func redactValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			if sensitiveKey.MatchString(k) {
				out[k] = redacted
				continue
			}
			out[k] = redactValue(val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = redactValue(val)
		}
		return out
	case string:
		return redactText(x)
	}
	return v
}

// redactText masks e-mail addresses in free text (a partner's message).
func redactText(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return emailPattern.ReplaceAllString(s, "$1***@$2")
}
