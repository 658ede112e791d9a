// Package privacy decides what of a partner's records Accord keeps, from
// what the provider manifest declares.
//
// Minimisation: a webhook body is stored with only what a contract can
// reference (Shape, EventShape): the envelope locations the manifest's
// webhooks section names (event id, type, object id and version) and,
// inside the changed object, the fields its object declares (nested objects
// and lists follow their own fields and items), plus the object's id,
// version, updated_at and merged_ids fields. Everything else is dropped
// before the commit and counted. An object that declares no fields, and an
// object field that declares no nested fields, is kept whole: nothing says
// what of it matters (lint warns about the first).
//
// Redaction: the sample of a record kept with a record error has personal
// and secret values masked (Redact): by the field's declared pii kind,
// else by its name, and every e-mail address in any other text is masked.
// The rule is written out for users in docs/data-handling.md.
//
// The package depends on spec only, so the ingress, the engine and the
// syncer can all use it.
package privacy
