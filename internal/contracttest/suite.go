package contracttest

import (
	"fmt"
	"time"

	"github.com/accordhq/accord/internal/spec"
)

// Format is the value of the `accord` key of a test file.
const Format = "test/v1"

// Suite is one test file: cases for one contract.
type Suite struct {
	// File is the test file's path; paths in it are relative to its
	// directory.
	File string
	// Contract is the contract file under test.
	Contract string
	Cases    []*Case
}

// Pos is where a value starts in its file.
type Pos struct{ Line, Col int }

// Case is one scenario: the partners' state, then events sent one after
// the other, each with what must follow.
type Case struct {
	Pos  Pos
	Name string
	// Cassette, when set, is the recording (a go-vcr cassette) the case's
	// partners answer from; `accord test --record` writes it.
	Cassette string
	// Records are partner records that exist before the first event, by
	// "provider.object"; the mock partner's lookups and finds see them.
	Records map[string][]map[string]any
	// Faults make the mock partner answer errors.
	Faults []*FaultSpec
	Steps  []*Step
}

// FaultSpec is a Fault as written: on "provider.object.operation".
type FaultSpec struct {
	Pos      Pos
	Provider string
	Fault
}

// Step sends one webhook event (or re-delivers the one the previous step
// left to the queue) and checks what followed.
type Step struct {
	Pos Pos
	// Event is the webhook body; EventFile names the file it was read
	// from (for messages).
	Event     map[string]any
	EventFile string
	// Set overrides fields of the event by dotted path (another version,
	// another event id) so one payload file serves several steps.
	Set map[string]any
	// Type is the event type, where the provider's manifest reads it (a
	// header such as X-GitHub-Event, or the body).
	Type string
	// Headers are sent with the webhook.
	Headers map[string]string
	// From names the provider whose webhook it is, when the contract has
	// triggers on several.
	From string
	// PadTo grows the body to this many bytes (a field of filler), for the
	// oversized-payload case.
	PadTo int64
	// Retry re-delivers the event the previous step handed to the queue,
	// once the delay it was given has passed.
	Retry  bool
	Expect Expect
}

// Expect is what must follow a step. Unset fields are not checked.
type Expect struct {
	Pos Pos
	// Outcome is the event's outcome: the engine's (applied, unchanged,
	// stale, filtered, failed, no_installation), retry (handed to the
	// queue to try again later), or the webhook ingress's answer
	// (duplicate, ignored, rejected).
	Outcome string
	// Requests, when not nil, are exactly the partner requests the step
	// makes, in order ([] for none).
	Requests *[]RequestSpec
	// RecordError is the class of the record error the step files.
	RecordError string
	// Status is the HTTP status the webhook is answered with.
	Status int
	// RetryAfter is the delay a retry outcome is queued with.
	RetryAfter time.Duration
}

// RequestSpec is one expected partner request. Body is a subset: the
// fields it names must be sent with these values, others may be too.
type RequestSpec struct {
	Pos      Pos
	Provider string
	Method   string
	// Path below the provider's base URL; a query is compared only when
	// given; a * segment matches any one segment (a generated id).
	Path    string
	Body    any
	Headers map[string]string
}

// diag is a problem at a position of the suite's file.
func (s *Suite) diag(p Pos, format string, args ...any) spec.Diagnostic {
	return spec.Diagnostic{File: s.File, Line: p.Line, Col: p.Col, Message: fmt.Sprintf(format, args...)}
}
