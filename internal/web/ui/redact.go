package ui

import (
	"encoding/json"

	"github.com/accordhq/accord/internal/privacy"
)

// redactJSON returns the document with every sensitive field's value
// replaced and e-mail addresses masked (a***@example.com), by the same
// rule record samples are stored under (internal/privacy, with no manifest
// at hand: by field name). A document that is not JSON is dropped whole:
// it cannot be checked.
func redactJSON(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return privacy.Redacted
	}
	return privacy.Redact(nil, v)
}

// redactText masks e-mail addresses in free text (a partner's message).
func redactText(s string) string { return privacy.MaskEmails(s) }
