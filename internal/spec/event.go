package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ErrBadEvent is matched by every error from ParseEvent.
var ErrBadEvent = errors.New("spec: bad event")

// Event is what Accord needs from one webhook delivery.
type Event struct {
	ID       string
	Type     string
	ObjectID string
	// Version orders changes to one object: the int version, or the
	// timestamp in Unix nanoseconds for version_kind timestamp. Zero when
	// the provider does not say.
	Version int64
	// Object is the changed object (the value at webhooks.object), nil
	// when the body does not carry it.
	Object map[string]any
	// Body is the whole decoded body.
	Body map[string]any
}

// ParseEvent extracts event id, type, object id and version from a
// verified webhook delivery, as the manifest's webhooks section says.
func (p *Provider) ParseEvent(header http.Header, body []byte) (*Event, error) {
	w := p.Webhooks
	if w == nil {
		return nil, fmt.Errorf("%w: %s does not send webhooks", ErrBadEvent, p.Name)
	}
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: body is not a JSON object: %v", ErrBadEvent, err)
	}
	doc = numbersToFloat(doc).(map[string]any)
	ev := &Event{Body: doc}
	var err error
	if ev.ID, err = locate(header, doc, w.EventID, "event id"); err != nil {
		return nil, err
	}
	if ev.Type, err = locate(header, doc, w.EventType, "event type"); err != nil {
		return nil, err
	}
	et := w.Events[ev.Type]
	if ev.ObjectID, err = locate(header, doc, w.ObjectIDPath(et), "object id"); err != nil {
		return nil, err
	}
	if vp := w.ObjectVersionPath(et); vp != "" {
		raw, err := locate(header, doc, vp, "object version")
		if err != nil {
			return nil, err
		}
		if w.VersionKind == "timestamp" {
			t, err := time.Parse(time.RFC3339Nano, raw)
			if err != nil {
				return nil, fmt.Errorf("%w: object version %q is not an RFC 3339 timestamp", ErrBadEvent, raw)
			}
			ev.Version = t.UnixNano()
		} else {
			v, err := ConvertValue(TypeInt, raw)
			if err != nil {
				return nil, fmt.Errorf("%w: object version %q is not an integer", ErrBadEvent, raw)
			}
			ev.Version = v.(int64)
		}
	}
	if w.Object != "" {
		if m, ok := mustGet(doc, w.Object).(map[string]any); ok {
			ev.Object = m
		}
	}
	return ev, nil
}

func mustGet(doc map[string]any, path string) any {
	v, _ := Get(doc, path)
	return v
}

// locate reads a value at a location: header:Name or a body JSON path.
func locate(header http.Header, doc map[string]any, loc, what string) (string, error) {
	if name, ok := strings.CutPrefix(loc, "header:"); ok {
		if v := header.Get(name); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("%w: %s header %s is missing", ErrBadEvent, what, name)
	}
	v, ok := Get(doc, loc)
	if !ok || v == nil {
		return "", fmt.Errorf("%w: %s (%s) is missing", ErrBadEvent, what, loc)
	}
	s, err := ConvertValue(TypeString, v)
	if err != nil {
		return "", fmt.Errorf("%w: %s (%s) is not a scalar", ErrBadEvent, what, loc)
	}
	return s.(string), nil
}

// numbersToFloat turns json.Number into float64 (what encoding/json gives
// by default) except for integers beyond float precision, kept as int64.
func numbersToFloat(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = numbersToFloat(x)
		}
	case []any:
		for i, x := range t {
			t[i] = numbersToFloat(x)
		}
	case json.Number:
		if i, err := t.Int64(); err == nil && (i > 1<<53 || i < -(1<<53)) {
			return i
		}
		f, _ := t.Float64()
		return f
	}
	return v
}
