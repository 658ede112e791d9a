package connector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/accordhq/accord/internal/spec"
)

const (
	contentTypeJSON = "application/json"
	contentTypeForm = "application/x-www-form-urlencoded"
)

// EncodeBody encodes a request document the way p's endpoint ep takes it,
// and returns the body with its Content-Type. Every body the connector
// sends goes through here (and dryrun shows what it returns), so an
// encoding is implemented once.
func EncodeBody(p *spec.Provider, ep *spec.Endpoint, doc any) ([]byte, string, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, "", fmt.Errorf("encoding body: %w", err)
	}
	if p.BodyEncoding(ep) != spec.EncodingForm {
		return raw, contentTypeJSON, nil
	}
	form, err := formEncode(raw)
	if err != nil {
		return nil, "", fmt.Errorf("encoding body as a form: %w", err)
	}
	return form, contentTypeForm, nil
}

func (c *Connector) encodeBody(ep *spec.Endpoint, doc any) ([]byte, string, error) {
	return EncodeBody(c.provider, ep, doc)
}

// formEncode writes a JSON document as application/x-www-form-urlencoded
// with Stripe's (and Rack's) bracket syntax: an object's fields nest as
// key[field], a list's elements as key[0], key[1]… (indexed, so a list of
// objects keeps each element's fields together), a JSON null as an empty
// value (Stripe's way to unset a field). An empty object or list sends
// nothing: the form cannot tell it from an unset one, and Stripe reads
// "metadata=" as "delete all metadata", which no mapping asked for.
//
// The document goes through JSON first so that whatever a mapping
// produced (time.Time, typed slices, json.Number) is written as the JSON
// body would carry it.
func formEncode(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	top, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a form body must be an object, not %T", doc)
	}
	var b strings.Builder
	writeFormObject(&b, "", top, true)
	return []byte(b.String()), nil
}

// writeFormObject writes m's fields; at the root they are named by their
// keys, below it nested in brackets after prefix (even an empty prefix:
// a field named "" is still a level).
func writeFormObject(b *strings.Builder, prefix string, m map[string]any, root bool) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		name := k
		if !root {
			name = prefix + "[" + k + "]"
		}
		writeFormValue(b, name, m[k])
	}
}

func writeFormValue(b *strings.Builder, name string, v any) {
	switch x := v.(type) {
	case map[string]any:
		writeFormObject(b, name, x, false)
		return
	case []any:
		for i, e := range x {
			writeFormValue(b, name+"["+strconv.Itoa(i)+"]", e)
		}
		return
	}
	var s string
	switch x := v.(type) {
	case nil:
	case string:
		s = x
	case json.Number:
		s = x.String()
	case bool:
		s = strconv.FormatBool(x)
	}
	if b.Len() > 0 {
		b.WriteByte('&')
	}
	b.WriteString(url.QueryEscape(name))
	b.WriteByte('=')
	b.WriteString(url.QueryEscape(s))
}
