package privacy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/accordhq/accord/internal/spec"
)

// Redacted replaces a value that must not be kept at all.
const Redacted = "[redacted]"

// secretName and personalName match the names of fields that carry
// credentials or personal identifiers when the manifest does not say
// (no pii): the fallback rule.
var (
	secretName   = regexp.MustCompile(`(?i)(pass|secret|token|auth|api_?key|cookie|session|signature|credential|ssn|card|iban)`)
	phoneName    = regexp.MustCompile(`(?i)(phone|mobile|fax)`)
	emailName    = regexp.MustCompile(`(?i)e_?-?mail`)
	emailPattern = regexp.MustCompile(`([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})`)
)

// SensitiveName reports whether a field's name alone says it holds a
// credential or a personal identifier (the fallback rule for fields with
// no declared pii).
func SensitiveName(name string) bool {
	return secretName.MatchString(name) || phoneName.MatchString(name) || emailName.MatchString(name)
}

// KindByName is the pii kind the fallback rule gives a field by its name,
// or "" when its name says nothing.
func KindByName(name string) string {
	switch {
	case secretName.MatchString(name):
		return spec.PIISecret
	case phoneName.MatchString(name):
		return spec.PIIPhone
	case emailName.MatchString(name):
		return spec.PIIEmail
	}
	return ""
}

// Redact returns a copy of doc, a record of obj, with personal and secret
// values masked. Each value is masked by its field's declared pii kind,
// else by the kind its name suggests (KindByName), and every e-mail
// address in any other text is masked. obj may be nil: the name rule
// alone applies. doc is not modified.
//
//	email     a***@example.com (first character and domain kept)
//	phone     ***42 (last two digits kept)
//	secret    [redacted]
//	personal  [redacted]
func Redact(obj *spec.Object, doc any) any {
	var fields map[string]*spec.Field
	if obj != nil {
		fields = obj.Fields
	}
	return redactValue(fields, nil, doc)
}

func redactValue(fields map[string]*spec.Field, f *spec.Field, v any) any {
	switch x := v.(type) {
	case map[string]any:
		if f != nil && f.Type == spec.TypeObject {
			fields = f.Fields
		}
		out := make(map[string]any, len(x))
		for k, val := range x {
			sub := fields[k]
			kind := KindByName(k)
			if sub != nil && sub.PII != "" {
				kind = sub.PII
			}
			if kind != "" && !isContainer(val) {
				out[k] = mask(kind, val)
				continue
			}
			if kind == spec.PIISecret {
				out[k] = Redacted // a secret's whole structure goes
				continue
			}
			var subFields map[string]*spec.Field
			if sub != nil {
				subFields = sub.Fields
			}
			out[k] = redactValue(subFields, sub, val)
		}
		return out
	case []any:
		var item *spec.Field
		if f != nil {
			item = f.Items
		}
		out := make([]any, len(x))
		for i, val := range x {
			var itemFields map[string]*spec.Field
			if item != nil {
				itemFields = item.Fields
			}
			if item != nil && item.PII != "" && !isContainer(val) {
				out[i] = mask(item.PII, val)
				continue
			}
			out[i] = redactValue(itemFields, item, val)
		}
		return out
	case string:
		return MaskEmails(x)
	}
	return v
}

func isContainer(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

// mask masks one value of a pii kind. null stays null: it says nothing.
func mask(kind string, v any) any {
	if v == nil {
		return nil
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		s = x.String()
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		s = fmt.Sprint(x)
	}
	switch kind {
	case spec.PIIEmail:
		if m := emailPattern.FindStringSubmatch(s); m != nil && m[0] == strings.TrimSpace(s) {
			return m[1] + "***@" + m[2]
		}
		return Redacted
	case spec.PIIPhone:
		var digits []byte
		for i := 0; i < len(s); i++ {
			if s[i] >= '0' && s[i] <= '9' {
				digits = append(digits, s[i])
			}
		}
		if len(digits) < 6 {
			return Redacted
		}
		return "***" + string(digits[len(digits)-2:])
	}
	return Redacted
}

// MaskEmails masks every e-mail address in free text (a***@example.com).
func MaskEmails(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return emailPattern.ReplaceAllString(s, "$1***@$2")
}
