package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// Test events are synthetic events an admin sends through one
// installation (the setup wizard's "send a test event"): stored and
// delivered like any other, to the real partner, but
//   - for that installation only, even before it is enabled (state
//     setup), so nothing else acts on them;
//   - marked: their id and dedup key start with TestEventPrefix and their
//     outcome with TestOutcomePrefix ("test_applied"), which the health
//     figures do not count as traffic (neither success nor failure), and
//     the engine's outcome metrics skip them;
//   - idempotent: the same sample sent again is the same event (its id is
//     a hash of the installation, type and payload), and a changed sample
//     of the same record goes through the record's link like any update,
//     so a second click never leaves a second partner record.
const (
	TestEventPrefix   = "accord-test/"
	TestOutcomePrefix = "test_"
)

// ErrTestEvent is returned by DeliverTest for a sample it cannot send:
// no trigger of the contract takes the event type, or no record id.
var ErrTestEvent = errors.New("engine: cannot send this test event")

// TestResult is a test event's fate.
type TestResult struct {
	EventID string
	// Outcome is the event's final outcome without TestOutcomePrefix;
	// empty while it is still being delivered (a partner asked to wait):
	// the queue finishes it.
	Outcome string
	// Repeated: this very sample was sent before; its stored outcome.
	Repeated bool
	Actions  []TestAction
	// Source is the record a TestSync read from the partner.
	Source map[string]any
}

// TestAction is one action's result: the partner record it wrote (from
// the link), or the record error that says why not.
type TestAction struct {
	Action   string
	Target   string // provider.object
	TargetID string
	Outcome  string
	Error    string // the record error's message, when it failed
}

// testReport collects per-action outcomes of a test delivery.
type testReport struct{ outcomes map[string]string }

type testReportKey struct{}

// DeliverTest sends doc, as an eventType event, through installation inst
// (see TestEventPrefix) and waits for its outcome, or until a partner asks
// to wait, in which case the rest is queued.
func (e *Engine) DeliverTest(ctx context.Context, inst store.Installation, eventType string, doc map[string]any) (TestResult, error) {
	cc, _, err := e.rt.installation(inst)
	if err != nil {
		return TestResult{}, err
	}
	var t *compiledTrigger
	for _, ct := range cc.triggers {
		if ct.events[eventType] && ct.syncType != eventType {
			t = ct
			break
		}
	}
	if t == nil {
		return TestResult{}, fmt.Errorf("%w: no trigger of contract %s takes %s events", ErrTestEvent, inst.Contract, eventType)
	}
	return e.deliverTest(ctx, inst, t, eventType, doc)
}

// TestSync is DeliverTest for a schedule trigger: it reads the record
// objectID from the source partner (its get endpoint, as the
// installation's connection) and delivers it as one synced record, so an
// admin sees what a sync would do to a record they know, before enabling.
// The result's Source is the record read.
func (e *Engine) TestSync(ctx context.Context, inst store.Installation, trigger, objectID string) (TestResult, error) {
	cc, _, err := e.rt.installation(inst)
	if err != nil {
		return TestResult{}, err
	}
	var t *compiledTrigger
	for _, ct := range cc.triggers {
		if ct.trigger.Name == trigger && ct.syncType != "" {
			t = ct
		}
	}
	if t == nil {
		return TestResult{}, fmt.Errorf("%w: contract %s has no schedule trigger %s", ErrTestEvent, inst.Contract, trigger)
	}
	if t.source.Endpoints.Get == nil {
		return TestResult{}, fmt.Errorf("%w: %s.%s has no get endpoint to read one record with", ErrTestEvent, t.provider.Name, t.source.Name)
	}
	conn, err := e.deps.Store.GetConnection(ctx, inst.TenantID, inst.Connections[t.provider.Name])
	if err != nil {
		return TestResult{}, fmt.Errorf("loading the %s connection: %w", t.provider.Name, err)
	}
	auth, err := e.deps.Credentials.Authorizer(ctx, conn, t.provider)
	if err != nil {
		return TestResult{}, fmt.Errorf("%w: signing in to %s: %v", ErrTestEvent, t.provider.Name, err)
	}
	got, err := e.connectors[t.provider.Name].Get(ctx, connector.Call{Object: t.source.Name, ID: objectID, Auth: auth})
	if err != nil {
		return TestResult{}, fmt.Errorf("%w: reading %s %s %s: %v", ErrTestEvent, t.provider.Name, t.source.Name, objectID, err)
	}
	doc := jsonNumbersToFloat(got.Object)
	if doc == nil {
		doc = map[string]any{}
	}
	if _, ok := doc["id"]; !ok {
		doc["id"] = objectID
	}
	res, err := e.deliverTest(ctx, inst, t, t.syncType, doc)
	res.Source = doc
	return res, err
}

func (e *Engine) deliverTest(ctx context.Context, inst store.Installation, t *compiledTrigger, eventType string, doc map[string]any) (TestResult, error) {
	id, ok := doc["id"]
	if !ok || id == nil || fmt.Sprint(id) == "" {
		return TestResult{}, fmt.Errorf("%w: the sample record has no id", ErrTestEvent)
	}
	var version int64
	if t.source.Version != "" {
		if v, ok := spec.Get(doc, t.source.Version); ok {
			if f, ok := v.(float64); ok {
				version = int64(f)
			}
		}
	}
	body := doc
	if eventType != t.syncType {
		body = wrapObject(t.objectPath, doc)
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return TestResult{}, fmt.Errorf("encoding the test event: %w", err)
	}
	sum := sha256.Sum256([]byte(inst.ID + "\x00" + eventType + "\x00" + string(payload)))
	key := TestEventPrefix + hex.EncodeToString(sum[:12])
	ev := store.Event{TenantID: inst.TenantID, ID: key, ConnectionID: inst.Connections[t.provider.Name], DedupKey: key,
		Type: eventType, ObjectID: fmt.Sprint(id), ObjectVersion: version, Payload: payload, ReceivedAt: e.deps.Now(),
		State: store.EventQueued}
	st := e.deps.Store
	inserted, err := st.InsertEvent(ctx, ev)
	if err != nil {
		return TestResult{}, fmt.Errorf("storing the test event: %w", err)
	}
	res := TestResult{EventID: ev.ID}
	if !inserted {
		if ev, err = st.GetEvent(ctx, inst.TenantID, key); err != nil {
			return res, fmt.Errorf("reading the test event: %w", err)
		}
		if ev.State == store.EventDone {
			res.Repeated, res.Outcome = true, strings.TrimPrefix(ev.Outcome, TestOutcomePrefix)
			return res, e.testActions(ctx, inst, t, ev, doc, &res, nil)
		}
	}
	args := argsOf(ev)
	args.TestInstallation = inst.ID
	rep := &testReport{outcomes: map[string]string{}}
	outcome, derr := e.deliverEvent(context.WithValue(ctx, testReportKey{}, rep), ev, args)
	if derr == nil {
		if err := st.SetEventsState(ctx, []store.EventRef{{TenantID: ev.TenantID, ID: ev.ID, Outcome: outcome}}, store.EventDone); err != nil {
			return res, fmt.Errorf("recording the test event's outcome: %w", err)
		}
		res.Outcome = strings.TrimPrefix(outcome, TestOutcomePrefix)
	} else if e.jobs != nil {
		// A partner asked to wait: the queue finishes it, scoped to this
		// installation like the first run.
		opts := args.InsertOpts()
		err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			_, err := e.jobs.InsertManyTx(ctx, tx, []river.InsertManyParams{{Args: args, InsertOpts: &opts}})
			return err
		})
		if err != nil {
			return res, fmt.Errorf("queueing the test event: %w", err)
		}
	} else {
		return res, fmt.Errorf("delivering the test event: %w", derr)
	}
	return res, e.testActions(ctx, inst, t, ev, doc, &res, rep)
}

// testActions reads what each action of t did with ev: its link's partner
// record, or its record error.
func (e *Engine) testActions(ctx context.Context, inst store.Installation, t *compiledTrigger, ev store.Event, doc map[string]any, res *TestResult, rep *testReport) error {
	obj := t.objectOf(ev.Type, mustObject(ev.Payload))
	if obj == nil {
		obj = doc
	}
	errs, err := e.deps.Store.ListRecordErrors(ctx, inst.TenantID, store.RecordErrorFilter{InstallationID: inst.ID})
	if err != nil {
		return fmt.Errorf("reading the test event's record errors: %w", err)
	}
	for _, ca := range t.actions {
		ta := TestAction{Action: ca.action.Name, Target: ca.provider.Name + "." + ca.target.Name}
		if rep != nil {
			ta.Outcome = rep.outcomes[ca.action.Name]
		}
		sid, err := sourceIDOf(t, ca, ev.ObjectID, obj)
		if err == nil {
			key := e.linkKey(applyInput{inst: inst, trigger: t, action: ca, sourceID: sid})
			if l, err := e.deps.Store.GetLink(ctx, key); err == nil {
				ta.TargetID = l.TargetID
			}
		}
		if ta.Outcome == outcomeFailed || (ta.Outcome == "" && ta.TargetID == "") {
			// Record errors do not name their action: the event's first
			// open one says why.
			for _, re := range errs {
				if re.EventID == ev.ID && re.Status != store.RecordErrorResolved {
					ta.Error, ta.Outcome = re.Message, outcomeFailed
					break
				}
			}
		}
		res.Actions = append(res.Actions, ta)
	}
	return nil
}

func mustObject(raw json.RawMessage) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

// wrapObject puts doc where the provider's webhooks carry the object
// ("data" → {"data": doc}).
func wrapObject(path string, doc map[string]any) map[string]any {
	if path == "" {
		return doc
	}
	segs := strings.Split(path, ".")
	out := doc
	for i := len(segs) - 1; i >= 0; i-- {
		out = map[string]any{segs[i]: out}
	}
	return out
}
