package connector

import "net/url"

// Call is one operation on one object.
type Call struct {
	// Object is the object's name in the manifest (incident, ticket).
	Object string
	// ID fills {id}: the partner's id of the object (get, update, delete).
	ID string
	// ExternalID fills {external_id}: our source id, for find_by_external_id.
	ExternalID string
	// Doc is the mapped document (create, update). A top-level field named
	// by a {field} placeholder in the path fills it and is left out of the
	// body. Doc itself is never modified.
	Doc map[string]any
	// IdempotencyKey is sent in the endpoint's idempotency_header, when the
	// manifest names one.
	IdempotencyKey string
	// IfMatch is sent as If-Match on an update whose endpoint declares
	// if_match: the ETag of the partner's last answer for the object.
	IfMatch string
	// Auth adds the connection's credentials; nil sends none.
	Auth Authorizer
}

// Result is the outcome of a successful single-object call.
type Result struct {
	// ID is the object's id: read at the endpoint's id_path, else the
	// object's id field, else (update, delete) Call.ID. Empty when the
	// partner returns no id (a chat webhook answering "ok").
	ID string
	// Object is the object read at the endpoint's item path (the whole body
	// when item is empty); nil when the body is empty or not JSON. Numbers
	// are json.Number, so large ids survive.
	Object map[string]any
	// Status is the HTTP status.
	Status int
	// ETag is the partner's ETag for the object in this answer, when it
	// sent one (the If-Match of the next conditional update).
	ETag string
	// Deprecation is the value of the partner's deprecation header (the
	// manifest's deprecation_header, else Deprecation or Sunset), empty when
	// absent.
	Deprecation string
}

// ListCall asks for one page of an object's list.
type ListCall struct {
	Object string
	// Cursor is the previous Page.Next; empty for the first page.
	Cursor string
	// Limit is the page size; 0 uses the manifest's pagination.limit.
	Limit int
	// Query adds request parameters (updated_since=..., status=open).
	Query url.Values
	// Params fill {name} placeholders in the list path.
	Params map[string]any
	Auth   Authorizer
}

// Page is one page of a list.
type Page struct {
	Items []map[string]any
	// Next is the cursor of the next page, opaque to the caller (a cursor,
	// page number, offset or URL by the manifest's style); empty on the
	// last page.
	Next        string
	Status      int
	Deprecation string
}
