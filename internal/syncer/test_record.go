package syncer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// ErrNoGet is returned by TestRecord for a trigger whose object has no get
// endpoint to read the chosen record with.
var ErrNoGet = errors.New("syncer: the trigger's object has no get endpoint")

// ErrUnknownTrigger is returned by TestRecord for a trigger the
// installation's contract does not have.
var ErrUnknownTrigger = errors.New("syncer: no such trigger")

// TestResult is one record synced on demand: the source object, and per
// action the target before and after, with the event's outcome.
type TestResult struct {
	Trigger  string         `json:"trigger"`
	ObjectID string         `json:"object_id"`
	EventID  string         `json:"event_id"`
	Outcome  string         `json:"outcome"`
	Source   map[string]any `json:"source"`
	Actions  []TestAction   `json:"actions"`
}

// TestAction is one action's target around the test.
type TestAction struct {
	Action   string         `json:"action"`
	Target   string         `json:"target"` // provider.object
	TargetID string         `json:"target_id"`
	Before   map[string]any `json:"before"` // nil: not linked yet, or no get endpoint
	After    map[string]any `json:"after"`
	Note     string         `json:"note,omitempty"`
}

// TestRecord syncs one chosen record now, through the same path as a sync
// page (an event the engine applies like any other), and reads the source
// and each action's target before and after, so an admin sees exactly
// what the contract does to a record they know. It waits for the event's
// outcome until ctx ends.
func (s *Syncer) TestRecord(ctx context.Context, tenantID, installationID, triggerName, objectID string) (TestResult, error) {
	st := s.deps.Store
	inst, err := st.GetInstallation(ctx, tenantID, installationID)
	if err != nil {
		return TestResult{}, err
	}
	c, err := s.deps.Catalog.Contract(inst.Contract, inst.ContractVersion)
	if err != nil {
		return TestResult{}, err
	}
	t := c.Triggers[triggerName]
	if t == nil {
		return TestResult{}, fmt.Errorf("%w: %q (the contract has %v)", ErrUnknownTrigger, triggerName, sortedKeys(c.Triggers))
	}
	if t.Schedule == nil {
		return TestResult{}, fmt.Errorf("%w: trigger %s has no schedule; a test sync reads the record the way a sync does (add a schedule to the trigger)", ErrNoGet, triggerName)
	}
	p, obj := s.sourceOf(t)
	if p == nil || obj == nil || obj.Endpoints.Get == nil {
		return TestResult{}, fmt.Errorf("%w: trigger %s", ErrNoGet, triggerName)
	}
	conn, err := st.GetConnection(ctx, tenantID, inst.Connections[p.Name])
	if err != nil {
		return TestResult{}, err
	}
	if why := notRunnable(inst, conn, p.Name); why != "" {
		return TestResult{}, errors.New(why)
	}
	res := TestResult{Trigger: triggerName, ObjectID: objectID, Actions: []TestAction{}}
	src, err := s.get(ctx, inst, p, obj.Name, objectID)
	if err != nil {
		return res, fmt.Errorf("reading %s %s %s: %w", p.Name, obj.Name, objectID, err)
	}
	res.Source = src
	for _, a := range c.Actions {
		if a.Trigger != triggerName {
			continue
		}
		ta := TestAction{Action: a.Name, Target: a.Provider + "." + a.Object}
		ta.TargetID, ta.Before, ta.Note = s.target(ctx, inst, c, a, p, obj, objectID, src)
		res.Actions = append(res.Actions, ta)
	}

	// The record as an event of its own: a fresh dedup key, so a record
	// the last sync already stored is applied again all the same.
	payload, err := json.Marshal(src)
	if err != nil {
		return res, err
	}
	version, _ := versionOf(obj, src)
	nonce := make([]byte, 6)
	_, _ = rand.Read(nonce)
	ev := store.Event{TenantID: tenantID, ID: "ev_" + uuid.NewString(), ConnectionID: conn.ID,
		DedupKey: "test/" + obj.Name + "/" + objectID + "/" + hex.EncodeToString(nonce),
		Type:     engine.SyncEventType(obj.Name), ObjectID: objectID, ObjectVersion: version, Payload: payload,
		ReceivedAt: s.deps.Now(), State: store.EventQueued}
	if s.jobs == nil {
		return res, errors.New("syncer: no queue")
	}
	err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.InsertEvent(ctx, ev); err != nil {
			return err
		}
		_, err := s.jobs.InsertManyTx(ctx, tx, []river.InsertManyParams{engine.NewEventJob(ev)})
		return err
	})
	if err != nil {
		return res, fmt.Errorf("storing the test event: %w", err)
	}
	res.EventID = ev.ID
	for {
		got, err := st.GetEvent(ctx, tenantID, ev.ID)
		if err != nil {
			return res, err
		}
		if got.State == store.EventDone {
			res.Outcome = got.Outcome
			break
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("waiting for the test event %s: %w (it is still delivered; its outcome shows on the health page)", ev.ID, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	for i, ta := range res.Actions {
		a := actionNamed(c, ta.Action)
		res.Actions[i].TargetID, res.Actions[i].After, res.Actions[i].Note = s.target(ctx, inst, c, a, p, obj, objectID, src)
	}
	return res, nil
}

func actionNamed(c *spec.Contract, name string) *spec.Action {
	for _, a := range c.Actions {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// sourceOf is the provider and object a trigger reads.
func (s *Syncer) sourceOf(t *spec.Trigger) (*spec.Provider, *spec.Object) {
	if t.Schedule != nil {
		p := s.deps.Catalog.Providers[t.Schedule.Provider]
		if p == nil {
			return nil, nil
		}
		return p, p.Objects[t.Schedule.Object]
	}
	if t.Webhook != nil && len(t.Webhook.Events) > 0 {
		p := s.deps.Catalog.Providers[t.Webhook.Provider]
		if p == nil || p.Webhooks == nil || p.Webhooks.Events[t.Webhook.Events[0]] == nil {
			return nil, nil
		}
		return p, p.Objects[p.Webhooks.Events[t.Webhook.Events[0]].Object]
	}
	return nil, nil
}

// get reads one object through the installation's connection to p.
func (s *Syncer) get(ctx context.Context, inst store.Installation, p *spec.Provider, object, id string) (map[string]any, error) {
	conn, err := s.deps.Store.GetConnection(ctx, inst.TenantID, inst.Connections[p.Name])
	if err != nil {
		return nil, err
	}
	auth, err := s.deps.Credentials.Authorizer(ctx, conn, p)
	if err != nil {
		return nil, err
	}
	r, err := s.deps.Connector(p.Name).Get(ctx, connector.Call{Object: object, ID: id, Auth: auth})
	if err != nil {
		return nil, err
	}
	// Numbers as JSON has them (json.Number), plain for the answer.
	raw, err := json.Marshal(r.Object)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	return out, json.Unmarshal(raw, &out)
}

// target finds the record action a writes for the source object (its
// link) and reads it, when the target has a get endpoint.
func (s *Syncer) target(ctx context.Context, inst store.Installation, c *spec.Contract, a *spec.Action, sp *spec.Provider, obj *spec.Object, objectID string, src map[string]any) (string, map[string]any, string) {
	srcObj, sid, ok := linkSource(c, obj, objectID, src)
	if !ok {
		return "", nil, "the record key " + c.RecordKeyPath(obj.Name) + " is not in the source object"
	}
	l, err := s.deps.Store.GetLink(ctx, store.LinkKey{TenantID: inst.TenantID, InstallationID: inst.ID, SourceObject: srcObj,
		SourceID: sid, TargetObject: a.Provider + "." + a.Object, Action: a.Name})
	if errors.Is(err, store.ErrNotFound) || (err == nil && l.TargetID == "") {
		// Two-way: the other direction's link may pair this record with
		// the target already (the action adopts it on its first write).
		paired, perr := s.pairedTarget(ctx, inst, c, a, sp, obj, objectID)
		if perr != nil || paired == "" {
			return "", nil, "not linked: no " + a.Object + " written for this record yet"
		}
		l, err = store.Link{TargetID: paired}, nil
	}
	if err != nil {
		return "", nil, err.Error()
	}
	p := s.deps.Catalog.Providers[a.Provider]
	if p == nil || p.Objects[a.Object] == nil || p.Objects[a.Object].Endpoints.Get == nil {
		return l.TargetID, nil, a.Provider + " " + a.Object + " has no get endpoint to show it"
	}
	doc, err := s.get(ctx, inst, p, a.Object, l.TargetID)
	if err != nil {
		return l.TargetID, nil, "reading it: " + err.Error()
	}
	return l.TargetID, doc, ""
}

// pairedTarget is the target the other direction of a two-way contract
// pairs this record with: a link from a's target object to this record
// (obj of provider p).
func (s *Syncer) pairedTarget(ctx context.Context, inst store.Installation, c *spec.Contract, a *spec.Action, p *spec.Provider, obj *spec.Object, objectID string) (string, error) {
	tp := s.deps.Catalog.Providers[a.Provider]
	if tp == nil || tp.Objects[a.Object] == nil {
		return "", nil
	}
	links, err := s.deps.Store.ListLinksByTarget(ctx, inst.TenantID, inst.ID, p.Name+"."+obj.Name, objectID)
	if err != nil {
		return "", err
	}
	for _, l := range links {
		if engine.AdoptsFrom(c, tp.Objects[a.Object], l.SourceObject) && l.SourceID != "" {
			return l.SourceID, nil
		}
	}
	return "", nil
}

// linkSource is the source object and id a link of obj's record is
// stored under: the record key's value when the contract keys obj by one,
// else the object's own id; false when the key is not in the record.
func linkSource(c *spec.Contract, obj *spec.Object, id string, record map[string]any) (string, string, bool) {
	path := c.RecordKeyPath(obj.Name)
	if path == "" {
		return obj.Name, id, true
	}
	v, ok := spec.Get(map[string]any{obj.Name: record}, path)
	if !ok {
		return "", "", false
	}
	return spec.RecordKeyObject, scalarString(v), true
}
