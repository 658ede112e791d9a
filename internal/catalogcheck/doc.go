// Package catalogcheck compares provider manifests with the vendor's own
// OpenAPI description (OpenAPI 3.x, or Swagger 2.0 converted on load):
// every endpoint a manifest names must exist with that method, every
// declared field must exist in the vendor's schemas with a compatible type
// (and enum values the vendor allows), and every field the vendor requires
// in a create body must be declared required, so a contract's lint makes
// its author map it or give it a default. The manifest's auth must match
// one of the document's security schemes (a bearer token matches an oauth2
// scheme: the vendor's OAuth issues bearer tokens).
//
// Differences come back as spec.Diagnostics positioned on the manifest
// (file:line:col), the same shape `accord contract lint` prints.
//
// The check is deliberately lenient where documents are loose: a schema
// with no type is compatible with anything, a field found in any of the
// object's request or response schemas exists, and a `timestamp` matches
// both date-time strings and Unix-second integers.
package catalogcheck
