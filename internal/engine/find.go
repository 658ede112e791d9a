package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

// ClassAmbiguousMatch: the target's search found several records matching
// the action's match_on fields; Accord never guesses which one to write.
const ClassAmbiguousMatch = "ambiguous_match"

// AmbiguousMatchError is a lookup that found several candidates.
type AmbiguousMatchError struct {
	Target string   // provider.object
	On     []string // match_on fields
	IDs    []string // candidate ids, in the partner's order
}

func (e *AmbiguousMatchError) Error() string {
	return fmt.Sprintf("lookup found %d %s records with the same %s: %s", len(e.IDs), e.Target, strings.Join(e.On, ", "), strings.Join(e.IDs, ", "))
}

// findExisting looks for a target record the action should update instead
// of creating one: first in the link table (a sibling action of the same
// record key may have written it; a search index may not show it yet), then
// through the target's find endpoint by the match_on fields, else its
// find_by_external_id. It returns "" when there is none. gone is a target
// the partner no longer has (being recreated): a sibling's link to it is
// not trusted.
func (e *Engine) findExisting(ctx context.Context, in applyInput, cn *connector.Connector, call connector.Call, fence func() error, gone string) (string, error) {
	a := in.action
	key := e.linkKey(in)
	for _, name := range a.siblings {
		sib := key
		sib.Action = name
		l, err := e.deps.Store.GetLink(ctx, sib)
		if err == nil && l.TargetID != "" && l.TargetID != gone {
			return l.TargetID, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("reading link of %s: %w", name, err)
		}
	}
	switch {
	case a.target.Endpoints.Find != nil && len(a.action.MatchOn) > 0:
		if err := fence(); err != nil {
			return "", err
		}
		cands, err := cn.Find(ctx, call)
		if err != nil {
			return "", &callError{op: "lookup", ep: a.target.Endpoints.Find, err: err}
		}
		var ids []string
		for _, c := range cands {
			if matches(c.Object, call.Doc, a.action.MatchOn) {
				ids = append(ids, c.ID)
			}
		}
		switch len(ids) {
		case 0:
			return "", nil
		case 1:
			return ids[0], nil
		}
		return "", &AmbiguousMatchError{Target: a.provider.Name + "." + a.target.Name, On: a.action.MatchOn, IDs: ids}
	case a.target.Endpoints.FindByExternalID != nil:
		// A crash between the partner's create and our link write leaves
		// an object only the partner knows; find it instead of making a
		// second one.
		call.ExternalID = in.sourceID
		if err := fence(); err != nil {
			return "", err
		}
		found, err := cn.FindByExternalID(ctx, call)
		switch {
		case err == nil:
			return found.ID, nil
		case errors.Is(err, connector.ErrNotFound):
			return "", nil
		}
		return "", &callError{op: "lookup", ep: a.target.Endpoints.FindByExternalID, err: err}
	}
	return "", nil
}

// matches reports whether a candidate holds the mapped values of every
// match_on field: a search may be fuzzy (prefix, tokens), a match is not.
func matches(cand, doc map[string]any, on []string) bool {
	for _, f := range on {
		v, ok := spec.Get(cand, f)
		if !ok || fmt.Sprint(v) != fmt.Sprint(doc[f]) {
			return false
		}
	}
	return true
}

// callError names the partner call that failed, for record errors:
// operation, method and path template. It unwraps to the connector's
// error, so classification is unchanged.
type callError struct {
	op  string // lookup, create, update, enrichment
	ep  *spec.Endpoint
	err error
}

func (e *callError) Error() string { return e.describe() + ": " + e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

func (e *callError) describe() string {
	if e.ep == nil {
		return e.op
	}
	return fmt.Sprintf("%s (%s %s)", e.op, e.ep.Method, e.ep.Path)
}

// partnerMessage is what a record error says about a failed partner call:
// which call (when known), the status, and the partner's own message.
func partnerMessage(err error, pe *connector.PartnerError) string {
	var ce *callError
	if !errors.As(err, &ce) {
		if pe != nil {
			return pe.Message
		}
		return err.Error()
	}
	msg := ce.describe()
	if pe != nil {
		if pe.Status > 0 {
			msg += fmt.Sprintf(" answered %d", pe.Status)
		}
		if pe.Message != "" {
			msg += ": " + pe.Message
		}
		return msg
	}
	return msg + ": " + ce.err.Error()
}
