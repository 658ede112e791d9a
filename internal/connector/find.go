package connector

import (
	"context"
	"fmt"
)

const opSearch = "find"

// Candidate is one record a find endpoint returned.
type Candidate struct {
	// ID is read at the endpoint's id_path inside each item, else the
	// object's id field of the item.
	ID string
	// Object is the item's fields: the value at the endpoint's item path
	// inside each list item (HubSpot's properties), else the item itself.
	Object map[string]any
}

// Find searches call.Object's find endpoint with call.Doc (the mapped
// document fills the {field} placeholders of its path, query and request
// body) and returns every candidate, in the partner's order. No candidate
// is not an error: the caller decides what zero or several mean. A search
// index may lag behind writes; callers trust their own links first.
func (c *Connector) Find(ctx context.Context, call Call) ([]Candidate, error) {
	obj := c.provider.Objects[call.Object]
	if obj == nil {
		return nil, fmt.Errorf("connector: %s has no object %q: %w", c.provider.Name, call.Object, ErrUnknownObject)
	}
	ep := obj.Endpoints.Find
	if ep == nil {
		return nil, fmt.Errorf("connector: %s %s: %w", call.Object, opSearch, ErrUnsupported)
	}
	name := call.Object + " " + opSearch
	path, err := expandPath(ep.Path, "", "", copyDoc(call.Doc))
	if err != nil {
		return nil, fmt.Errorf("connector: %s: %w", name, err)
	}
	_, query, body, err := ep.FindRequest(call.Doc)
	if err != nil {
		return nil, fmt.Errorf("connector: %s: %w: %w", name, ErrMissingParam, err)
	}
	u, err := c.url(name, path, query)
	if err != nil {
		return nil, err
	}
	r := request{op: name, opKind: opSearch, ep: ep, url: u, auth: call.Auth}
	if body != nil {
		if r.body, r.contentType, err = c.encodeBody(ep, body); err != nil {
			return nil, fmt.Errorf("connector: %s: %w", name, err)
		}
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	items, err := itemsAt(resp.doc, ep.Items)
	if err != nil {
		return nil, fmt.Errorf("connector: %s: %w", name, err)
	}
	out := make([]Candidate, 0, len(items))
	for _, it := range items {
		cand := Candidate{Object: it}
		if ep.Item != "" {
			if v, ok := lookup(it, ep.Item); ok {
				if m, ok := v.(map[string]any); ok {
					cand.Object = m
				}
			}
		}
		if ep.IDPath != "" {
			if v, ok := lookup(it, ep.IDPath); ok {
				cand.ID = scalarString(v)
			}
		} else {
			cand.ID = scalarString(it[obj.IDField()])
		}
		out = append(out, cand)
	}
	return out, nil
}
