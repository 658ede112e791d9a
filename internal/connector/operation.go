package connector

import (
	"context"
	"fmt"

	"github.com/accordhq/accord/internal/spec"
)

// Operation names, as they appear in errors and metrics.
const (
	opCreate = "create"
	opUpdate = "update"
	opGet    = "get"
	opDelete = "delete"
	opFind   = "find_by_external_id"
	opList   = "list"
	opTest   = "test"
)

func (c *Connector) endpoint(object, op string) (*spec.Object, *spec.Endpoint, error) {
	obj := c.provider.Objects[object]
	if obj == nil {
		return nil, nil, fmt.Errorf("connector: %s has no object %q: %w", c.provider.Name, object, ErrUnknownObject)
	}
	var ep *spec.Endpoint
	switch op {
	case opCreate:
		ep = obj.Endpoints.Create
	case opUpdate:
		ep = obj.Endpoints.Update
	case opGet:
		ep = obj.Endpoints.Get
	case opDelete:
		ep = obj.Endpoints.Delete
	case opFind:
		ep = obj.Endpoints.FindByExternalID
	case opList:
		ep = obj.Endpoints.List
	}
	if ep == nil {
		return nil, nil, fmt.Errorf("connector: %s %s: %w", object, op, ErrUnsupported)
	}
	return obj, ep, nil
}

// Create creates an object, sending the idempotency key.
func (c *Connector) Create(ctx context.Context, call Call) (Result, error) {
	return c.single(ctx, call, opCreate)
}

// Update updates the object call.ID with call.Doc. A partner that no longer
// has the object answers with a not_found *PartnerError (errors.Is
// ErrNotFound).
func (c *Connector) Update(ctx context.Context, call Call) (Result, error) {
	return c.single(ctx, call, opUpdate)
}

// Get reads the object call.ID.
func (c *Connector) Get(ctx context.Context, call Call) (Result, error) {
	return c.single(ctx, call, opGet)
}

// Delete deletes the object call.ID.
func (c *Connector) Delete(ctx context.Context, call Call) (Result, error) {
	return c.single(ctx, call, opDelete)
}

// FindByExternalID looks the object up by our source id (call.ExternalID),
// so that a create retried after a crash finds the object the first attempt
// made. It returns ErrNotFound when the partner's list is empty (or it
// answers 404); with several matches, the first wins.
func (c *Connector) FindByExternalID(ctx context.Context, call Call) (Result, error) {
	obj, ep, err := c.endpoint(call.Object, opFind)
	if err != nil {
		return Result{}, err
	}
	name := call.Object + " " + opFind
	path, err := expandPath(ep.Path, call.ID, call.ExternalID, copyDoc(call.Doc))
	if err != nil {
		return Result{}, fmt.Errorf("connector: %s: %w", name, err)
	}
	u, err := c.url(name, path, nil)
	if err != nil {
		return Result{}, err
	}
	resp, err := c.do(ctx, request{op: name, opKind: opFind, ep: ep, url: u, auth: call.Auth})
	if err != nil {
		return Result{}, err
	}
	res := Result{Status: resp.status, Deprecation: resp.deprecation}
	if _, isList := resp.doc.([]any); ep.Items == "" && !isList {
		// A lookup answering with the object itself, or nothing.
		if resp.doc == nil {
			return Result{}, fmt.Errorf("connector: %s %q: %w", call.Object, call.ExternalID, ErrNotFound)
		}
		return c.fillResult(res, obj, ep, resp.doc, "", name)
	}
	items, err := itemsAt(resp.doc, ep.Items)
	if err != nil {
		return Result{}, fmt.Errorf("connector: %s: %w", name, err)
	}
	if len(items) == 0 {
		return Result{}, fmt.Errorf("connector: %s %q: %w", call.Object, call.ExternalID, ErrNotFound)
	}
	res.Object = items[0]
	res.ID = scalarString(items[0][obj.IDField()])
	return res, nil
}

// TestConnection calls the manifest's auth test endpoint ("test
// connection"): nil means the credentials work.
func (c *Connector) TestConnection(ctx context.Context, auth Authorizer) error {
	ep := c.provider.Auth.Test
	if ep == nil {
		return fmt.Errorf("connector: %s test: %w", c.provider.Name, ErrUnsupported)
	}
	name := "connection " + opTest
	u, err := c.url(name, ep.Path, nil)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, request{op: name, opKind: opTest, ep: ep, url: u, auth: auth})
	return err
}

// single runs create, update, get or delete.
func (c *Connector) single(ctx context.Context, call Call, op string) (Result, error) {
	obj, ep, err := c.endpoint(call.Object, op)
	if err != nil {
		return Result{}, err
	}
	name := call.Object + " " + op
	doc := copyDoc(call.Doc)
	path, err := expandPath(ep.Path, call.ID, call.ExternalID, doc)
	if err != nil {
		return Result{}, fmt.Errorf("connector: %s: %w", name, err)
	}
	u, err := c.url(name, path, nil)
	if err != nil {
		return Result{}, err
	}
	r := request{op: name, opKind: op, ep: ep, url: u, auth: call.Auth, idempotencyKey: call.IdempotencyKey, ifMatch: call.IfMatch}
	if op == opCreate || op == opUpdate {
		r.body, r.contentType, err = c.encodeBody(ep, wrapBody(ep.Body, doc))
		if err != nil {
			return Result{}, fmt.Errorf("connector: %s: %w", name, err)
		}
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		return Result{}, err
	}
	return c.fillResult(Result{Status: resp.status, Deprecation: resp.deprecation, ETag: resp.header.Get("ETag")}, obj, ep, resp.doc, call.ID, name)
}

func (c *Connector) fillResult(res Result, obj *spec.Object, ep *spec.Endpoint, doc any, callID, name string) (Result, error) {
	if doc != nil {
		item, ok := lookup(doc, ep.Item)
		if ok && item != nil {
			m, isMap := item.(map[string]any)
			if !isMap {
				return Result{}, fmt.Errorf("connector: %s: item %q is %T, not an object: %w", name, ep.Item, item, ErrBadResponse)
			}
			res.Object = m
		}
		if ep.IDPath != "" {
			if v, ok := lookup(doc, ep.IDPath); ok {
				res.ID = scalarString(v)
			}
		} else if res.Object != nil {
			res.ID = scalarString(res.Object[obj.IDField()])
		}
	}
	if res.ID == "" {
		res.ID = callID
	}
	return res, nil
}
