// Package api is Accord's JSON admin API under /api/v1/, described by the
// OpenAPI document it serves at /api/v1/openapi.json. Every tenant resource
// is addressed under /api/v1/tenants/{tenant}/…, so a handler cannot read a
// row without naming its tenant. Requests authenticate with the operator
// token (Authorization: Bearer …).
package api
