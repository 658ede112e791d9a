package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// What applyDelete did, as accord_sync_deletes_total labels it.
const (
	deletePropagated = "propagated"
	deleteMarked     = "marked"
	deleteIgnored    = "ignored"
	deleteUnlinked   = "unlinked"
)

// applyDelete carries out an action's on_delete for a source record the
// partner reports deleted, under the object's lock and lease (held by
// applyOnce). It ends with a tombstone link at the deletion's version, so
// an older event arriving late is stale instead of writing the target
// again; a newer one (a restored record) writes as usual and clears it.
//
//   - propagate deletes the linked target (already gone counts as done);
//     the tombstone forgets the written fields, so a restored record is
//     written whole, and recreated if the target is gone.
//   - mark writes the delete_mark rows to the target and records them as
//     written, so drift and echo checks know them.
//   - ignore leaves the target as it is.
func (e *Engine) applyDelete(ctx context.Context, in applyInput, conn store.Connection, link store.Link, linked bool, fence func() error) applyResult {
	a := in.action
	ord := eventOrder(in.event)
	tomb := store.Link{LinkKey: e.linkKey(in), TargetID: link.TargetID, Version: ord.version, EventID: in.event.ID, EventAt: ord.at,
		ETag: link.ETag, Fields: link.Fields, SourceDeleted: true}
	did, outcome := deleteIgnored, outcomeUnchanged
	switch policy := a.action.DeletePolicy(); {
	case !linked:
		did = deleteUnlinked
	case policy == spec.DeletePropagate || policy == spec.DeleteMark:
		if wait := e.connectors[a.provider.Name].Limiter().Reserve(in.inst.TenantID, lockKey(tomb.LinkKey)); wait > 0 {
			e.metrics.retry(e.metrics.labels(in.inst, a.provider.Name), retryThrottled)
			return applyResult{snooze: wait}
		}
		auth, err := e.deps.Credentials.Authorizer(ctx, conn, a.provider)
		if err != nil {
			return e.authFailed(ctx, in, conn, err, err.Error())
		}
		if err := fence(); err != nil {
			e.metrics.retry(e.metrics.labels(in.inst, a.provider.Name), retryBusy)
			return applyResult{snooze: time.Second}
		}
		cn := e.connectors[a.provider.Name]
		call := connector.Call{Object: a.target.Name, ID: link.TargetID, Auth: auth}
		if policy == spec.DeletePropagate {
			_, err = cn.Delete(ctx, call)
			if err != nil && !partnerNotFound(err) {
				return e.handleWriteError(ctx, in, conn, &callError{op: "delete", ep: a.target.Endpoints.Delete, err: err})
			}
			did, outcome, tomb.Fields, tomb.ETag = deletePropagated, outcomeApplied, nil, ""
			break
		}
		res, err := a.marker.MapWith(in.doc, nil)
		if err != nil {
			return e.fail(ctx, in, conn, ClassBadData, "delete_mark: "+err.Error())
		}
		call.Doc = res.Doc
		ans, err := e.update(ctx, cn, a.target, call, link.ETag, fence)
		switch {
		case partnerNotFound(err):
			// Deleted at the partner already: nothing left to mark.
		case err != nil:
			return e.handleWriteError(ctx, in, conn, &callError{op: "update", ep: a.target.Endpoints.Update, err: err})
		default:
			tomb.ETag = ans.ETag
			if tomb.Fields, err = overlayFields(link.Fields, res.Doc); err != nil {
				return e.fail(ctx, in, conn, ClassBadData, "delete_mark: "+err.Error())
			}
		}
		did, outcome = deleteMarked, outcomeApplied
	}
	err := e.links.write(ctx, tomb)
	if errors.Is(err, store.ErrStaleLink) {
		// A newer version was written meanwhile: the record lives on.
		return applyResult{outcome: outcomeStale}
	}
	if err != nil {
		e.metrics.retry(e.metrics.labels(in.inst, a.provider.Name), retryTransient)
		return applyResult{retry: fmt.Errorf("recording the deletion: %w", err)}
	}
	e.metrics.deleted(a.provider.Name, a.target.Name, did)
	e.deps.Logger.InfoContext(ctx, "source record deleted", "tenant_id", in.inst.TenantID, "installation_id", in.inst.ID,
		"action", a.action.Name, "source_id", in.sourceID, "target_id", link.TargetID, "done", did)
	return applyResult{outcome: outcome}
}

// partnerNotFound reports a partner's 404 (its error class not_found).
func partnerNotFound(err error) bool {
	var pe *connector.PartnerError
	return errors.As(err, &pe) && pe.Class == spec.ClassNotFound
}

// overlayFields returns the written fields with doc's values laid over
// them, nested objects merged key by key.
func overlayFields(written json.RawMessage, doc map[string]any) (json.RawMessage, error) {
	base := map[string]any{}
	if len(written) > 0 && string(written) != "null" {
		if err := json.Unmarshal(written, &base); err != nil {
			return nil, fmt.Errorf("reading the written fields: %w", err)
		}
	}
	overlay(base, doc)
	return json.Marshal(base)
}

func overlay(dst, src map[string]any) {
	for k, v := range src {
		if sub, ok := v.(map[string]any); ok {
			if d, ok := dst[k].(map[string]any); ok {
				overlay(d, sub)
				continue
			}
		}
		dst[k] = v
	}
}
