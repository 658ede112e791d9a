package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// ClassConflict: both sides changed a field since Accord last wrote it,
// and the contract holds such writes for a person to decide
// (on_conflict: hold).
const ClassConflict = "conflict"

// Conflict is one field both sides changed since Accord last wrote it:
// what the target holds now (Theirs), what Accord wrote there (Written)
// and what the owner's side now says (Ours).
type Conflict struct {
	Field   string `json:"field"`
	Theirs  string `json:"theirs"`
	Written string `json:"written"`
	Ours    string `json:"ours"`
}

// Conflicting compares, leaf by leaf over the fields about to be written
// (next), the target as read now (current) with what Accord last wrote
// there: a field whose value changed on both sides, to different values,
// is a conflict. A field Accord never wrote, or the target does not show,
// is not compared.
func Conflicting(current map[string]any, written json.RawMessage, next map[string]any) []Conflict {
	var last map[string]any
	if len(written) == 0 || json.Unmarshal(written, &last) != nil {
		return nil
	}
	var out []Conflict
	walkLeaves("", next, func(path string, v any) {
		w, ok := spec.Get(last, path)
		if !ok {
			return
		}
		cur, ok := spec.Get(current, path)
		if !ok {
			return
		}
		c := Conflict{Field: path, Theirs: asText(cur), Written: asText(w), Ours: asText(v)}
		if c.Theirs != c.Written && c.Ours != c.Written && c.Theirs != c.Ours {
			out = append(out, c)
		}
	})
	slices.SortFunc(out, func(a, b Conflict) int { return strings.Compare(a.Field, b.Field) })
	return out
}

// settleConflicts reads a two-way target before it is updated and applies
// the contract's on_conflict to the fields both sides changed since
// Accord's last write: owner_wins lets the write go on and records each
// conflict in the audit log; hold stops it with a conflict record error
// showing both values (a retry of that record error is the person's
// decision: the owner's value is written). nil lets the write go on.
func (e *Engine) settleConflicts(ctx context.Context, in applyInput, conn store.Connection, auth connector.Authorizer, link store.Link, doc map[string]any, fence func() error) *applyResult {
	a := in.action
	if err := fence(); err != nil {
		e.metrics.retry(e.metrics.labels(in.inst, a.provider.Name), retryBusy)
		return &applyResult{snooze: time.Second}
	}
	cur, err := e.connectors[a.provider.Name].Get(ctx, connector.Call{Object: a.target.Name, ID: link.TargetID, Auth: auth})
	if partnerNotFound(err) {
		return nil // gone: the write recreates it or fails, per on_missing
	}
	if err != nil {
		r := e.handleWriteError(ctx, in, conn, &callError{op: "read before update", ep: a.target.Endpoints.Get, err: err})
		return &r
	}
	conflicts := Conflicting(cur.Object, link.Fields, doc)
	if len(conflicts) == 0 {
		return nil
	}
	owner := providerTitle(in.trigger.provider)
	var parts []string
	for _, c := range conflicts {
		parts = append(parts, fmt.Sprintf("%s: %s has %q, Accord last wrote %q, %s now says %q", c.Field, providerTitle(a.provider), c.Theirs, c.Written, owner, c.Ours))
	}
	what := strings.Join(parts, "; ")
	hold := in.contract.OnConflict == spec.ConflictHold && in.args.RecordErrorID == ""
	resolution := spec.ConflictOwnerWins
	if hold {
		resolution = spec.ConflictHold
	}
	for _, c := range conflicts {
		e.metrics.conflict(a.provider.Name, a.target.Name, c.Field, resolution)
	}
	if hold {
		msg := fmt.Sprintf("%s %s %s was changed on both sides since Accord last wrote it, and the contract holds such writes (on_conflict: hold): %s",
			providerTitle(a.provider), a.target.Name, link.TargetID, what)
		remedy := fmt.Sprintf("Decide which value stays. To keep %s's, retry this record error: Accord writes it. To keep %s's, make the same change in %s, which owns these fields.",
			owner, providerTitle(a.provider), owner)
		e.recordError(ctx, in, ClassConflict, msg, remedy)
		return &applyResult{outcome: outcomeFailed}
	}
	detail, _ := json.Marshal(map[string]any{"installation_id": in.inst.ID, "action": a.action.Name, "event_id": in.event.ID,
		"source_id": in.sourceID, "target": a.provider.Name + "." + a.target.Name, "target_id": link.TargetID,
		"rule": in.contract.OnConflict, "decided_by_retry": in.args.RecordErrorID != "", "conflicts": conflicts})
	if _, err := e.deps.Store.AppendAudit(ctx, store.AuditEntry{TenantID: in.inst.TenantID, Actor: "accord",
		Action: "sync.conflict_resolved", Subject: a.provider.Name + "." + a.target.Name + "/" + link.TargetID, Detail: detail}); err != nil {
		// Recording is part of the promise: retry rather than write unrecorded.
		e.metrics.retry(e.metrics.labels(in.inst, a.provider.Name), retryTransient)
		return &applyResult{retry: fmt.Errorf("recording a conflict: %w", err)}
	}
	e.deps.Logger.InfoContext(ctx, "conflict: both sides changed a field; the owner's value is written", "tenant_id", in.inst.TenantID,
		"installation_id", in.inst.ID, "action", a.action.Name, "target_id", link.TargetID, "fields", len(conflicts))
	return nil
}
