package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/accordhq/accord/internal/spec"
)

// MalformedError says why a webhook body could not be used: it becomes the
// 400 response's message, so it names the field and where the manifest
// says it lives, never the value.
type MalformedError struct {
	Reason string
}

func (e *MalformedError) Error() string { return "webhook: malformed event: " + e.Reason }

func malformed(format string, args ...any) error {
	return &MalformedError{Reason: fmt.Sprintf(format, args...)}
}

// location is where a manifest says a value lives: a request header
// ("header:Name") or a dotted path into the JSON body ("data.id").
type location struct {
	spec   string // as written in the manifest, for messages
	header string // canonical header name, or empty for a body path
	path   []string
}

func parseLocation(s string) location {
	if name, ok := strings.CutPrefix(s, "header:"); ok {
		return location{spec: s, header: http.CanonicalHeaderKey(name)}
	}
	if s == "" {
		return location{}
	}
	return location{spec: s, path: strings.Split(s, ".")}
}

func (l location) set() bool { return l.header != "" || len(l.path) > 0 }

// lookup returns the value at l: a string for a header, a JSON value
// (string, json.Number, bool, map, slice, nil) for a body path.
func (l location) lookup(h http.Header, doc any) (any, bool) {
	if l.header != "" {
		v := h.Get(l.header)
		return v, v != ""
	}
	cur := doc
	for _, seg := range l.path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[seg]; !ok {
			return nil, false
		}
	}
	return cur, cur != nil
}

// eventParser pulls an event's id, type, object id and object version out
// of a request, as one provider's manifest describes. It is built once per
// provider and is safe for concurrent use.
type eventParser struct {
	id, typ, objectID, version location
	timestampVersion           bool
	known                      map[string]*spec.EventType
	// perType holds the object id and version locations of event types
	// that override the webhook-level ones.
	perType map[string]objectLocations
	// batch, when set, is where a body holds its list of events (empty
	// path: the body is the list); maxBatch bounds its length.
	batch    *location
	maxBatch int
}

type objectLocations struct{ id, version location }

func newEventParser(w *spec.Webhooks) *eventParser {
	p := &eventParser{
		id:               parseLocation(w.EventID),
		typ:              parseLocation(w.EventType),
		objectID:         parseLocation(w.ObjectID),
		version:          parseLocation(w.ObjectVersion),
		timestampVersion: w.VersionKind == "timestamp",
		known:            w.Events,
		perType:          map[string]objectLocations{},
	}
	for name, et := range w.Events {
		if et != nil && (et.ObjectID != "" || et.ObjectVersion != "") {
			p.perType[name] = objectLocations{id: parseLocation(w.ObjectIDPath(et)), version: parseLocation(w.ObjectVersionPath(et))}
		}
	}
	if w.Batched() {
		b := location{spec: w.Batch}
		if w.Batch != "." {
			b = parseLocation(w.Batch)
		}
		p.batch, p.maxBatch = &b, w.EffectiveMaxBatch()
	}
	return p
}

// batched reports whether bodies hold a list of events.
func (p *eventParser) batched() bool { return p.batch != nil }

// locations returns where an event of type typ has its object id and
// version.
func (p *eventParser) locations(typ string) (id, version location) {
	if l, ok := p.perType[typ]; ok {
		return l.id, l.version
	}
	return p.objectID, p.version
}

// parsedEvent is what the ingress needs from one event.
type parsedEvent struct {
	id, typ, objectID string
	version           int64
	known             bool // typ is among the provider's events
	// doc is the decoded event (numbers as json.Number): the element of a
	// batch, else the whole body. It is what gets stored.
	doc any
}

// BatchTooLargeError refuses a batched body holding more events than the
// provider's max_batch: the answer is 413.
type BatchTooLargeError struct {
	Events, Max int
}

func (e *BatchTooLargeError) Error() string {
	return fmt.Sprintf("webhook: the body holds %d events, more than the %d accepted in one request", e.Events, e.Max)
}

// parse decodes body (which must be one JSON value) and reads each event
// in it: one, or every element of a batch, in order. An unknown event type
// is not an error: known is false and the object fields are not required.
// A malformed element fails the whole body, naming the element's index.
func (p *eventParser) parse(h http.Header, body []byte) ([]parsedEvent, error) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(body))
	// Numbers stay as written: an id of 12345678901234567890 must not turn
	// into a float and lose digits.
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, malformed("body is not valid JSON: %s", jsonErrorText(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, malformed("body is not valid JSON: data after the first value")
	}
	if p.batch == nil {
		ev, err := p.parseOne(h, doc)
		if err != nil {
			return nil, err
		}
		return []parsedEvent{ev}, nil
	}
	list := doc
	if len(p.batch.path) > 0 {
		v, ok := p.batch.lookup(h, doc)
		if !ok {
			return nil, malformed("batch of events missing (expected an array at %s)", p.batch.spec)
		}
		list = v
	}
	elems, ok := list.([]any)
	if !ok {
		return nil, malformed("batch at %s must be an array of events, got %s", p.batch.spec, jsonKind(list))
	}
	if len(elems) == 0 {
		return nil, malformed("batch at %s holds no events", p.batch.spec)
	}
	if len(elems) > p.maxBatch {
		return nil, &BatchTooLargeError{Events: len(elems), Max: p.maxBatch}
	}
	evs := make([]parsedEvent, len(elems))
	for i, el := range elems {
		if _, isObject := el.(map[string]any); !isObject {
			return nil, malformed("event [%d] must be a JSON object, got %s", i, jsonKind(el))
		}
		ev, err := p.parseOne(h, el)
		if err != nil {
			var me *MalformedError
			if errors.As(err, &me) {
				return nil, malformed("event [%d]: %s", i, me.Reason)
			}
			return nil, err
		}
		evs[i] = ev
	}
	return evs, nil
}

// parseOne reads one event's fields from doc.
func (p *eventParser) parseOne(h http.Header, doc any) (parsedEvent, error) {
	ev := parsedEvent{doc: doc}
	var err error
	if ev.id, err = p.text("event id", p.id, h, doc); err != nil {
		return parsedEvent{}, err
	}
	if ev.typ, err = p.text("event type", p.typ, h, doc); err != nil {
		return parsedEvent{}, err
	}
	if _, ev.known = p.known[ev.typ]; !ev.known {
		return ev, nil
	}
	idAt, versionAt := p.locations(ev.typ)
	if ev.objectID, err = p.text("object id", idAt, h, doc); err != nil {
		return parsedEvent{}, err
	}
	if versionAt.set() {
		if ev.version, err = p.versionOf(versionAt, h, doc); err != nil {
			return parsedEvent{}, err
		}
	}
	return ev, nil
}

// text reads a required scalar as a string; numbers keep their JSON text.
func (p *eventParser) text(what string, l location, h http.Header, doc any) (string, error) {
	if !l.set() {
		return "", malformed("%s: the provider manifest does not say where it is", what)
	}
	v, ok := l.lookup(h, doc)
	if !ok {
		return "", malformed("%s missing (expected at %s)", what, l.spec)
	}
	var s string
	switch v := v.(type) {
	case string:
		if v == "" {
			return "", malformed("%s at %s is empty", what, l.spec)
		}
		s = v
	case json.Number:
		s = v.String()
	default:
		return "", malformed("%s at %s must be a string or a number, got %s", what, l.spec, jsonKind(v))
	}
	// Ids land in indexed text columns: a NUL or invalid UTF-8 (possible in
	// a header) would fail the insert on every retry, and so would an id
	// longer than an index row.
	s = cleanText(s)
	if len(s) > MaxIDBytes {
		return "", malformed("%s at %s is longer than %d bytes", what, l.spec, MaxIDBytes)
	}
	return s, nil
}

// versionOf reads the object version: an integer, or with version_kind
// timestamp an RFC 3339 time as Unix nanoseconds.
func (p *eventParser) versionOf(l location, h http.Header, doc any) (int64, error) {
	v, ok := l.lookup(h, doc)
	if !ok {
		return 0, malformed("object version missing (expected at %s)", l.spec)
	}
	if p.timestampVersion {
		s, isString := v.(string)
		if !isString {
			return 0, malformed("object version at %s must be an RFC 3339 timestamp, got %s", l.spec, jsonKind(v))
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 0, malformed("object version at %s is not an RFC 3339 timestamp", l.spec)
		}
		return t.UnixNano(), nil
	}
	var text string
	switch v := v.(type) {
	case json.Number:
		text = v.String()
	case string:
		text = v
	default:
		return 0, malformed("object version at %s must be an integer, got %s", l.spec, jsonKind(v))
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, malformed("object version at %s must be an integer", l.spec)
	}
	return n, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	}
	return fmt.Sprintf("%T", v)
}

// jsonErrorText keeps the decoder's position but not the offending bytes.
func jsonErrorText(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of body"
	}
	return "cannot decode"
}
