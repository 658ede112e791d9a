package spec

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Classify sorts a partner response into an error class (ClassAuth, …)
// and extracts the partner's message. The manifest's rules are tried in
// order, then the HTTP defaults (401 auth, 403 permission, 404 not_found,
// 400/409/422 validation, 429 rate_limited, 5xx and 408 transient). A 2xx or
// 3xx status returns "". The message is capped at 500 bytes: it ends up in
// record errors shown to admins.
func (p *Provider) Classify(status int, body []byte) (class, message string) {
	if p.Errors != nil {
		for _, r := range p.Errors.Rules {
			if r.Status.Match(status) && (r.BodyContains == "" || bytes.Contains(body, []byte(r.BodyContains))) {
				class = r.Class
				break
			}
		}
	}
	if class == "" {
		class = defaultClass(status)
	}
	if class == "" {
		return "", ""
	}
	path := "error.message"
	if p.Errors != nil && p.Errors.Message != "" {
		path = p.Errors.Message
	}
	message = messageAt(body, path)
	if len(message) > 500 {
		message = message[:500]
	}
	return class, message
}

func defaultClass(status int) string {
	switch {
	case status == 401:
		return ClassAuth
	case status == 403:
		return ClassPermission
	case status == 404 || status == 410:
		return ClassNotFound
	case status == 429:
		return ClassRateLimited
	case status == 408 || status >= 500:
		return ClassTransient
	case status >= 400:
		return ClassValidation
	}
	return ""
}

func messageAt(body []byte, path string) string {
	var doc map[string]any
	if json.Unmarshal(body, &doc) != nil {
		return strings.TrimSpace(string(body))
	}
	if v, ok := Get(doc, path); ok {
		if s, ok := v.(string); ok {
			return s
		}
	}
	return ""
}
