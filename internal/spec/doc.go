// Package spec reads, validates and explains Accord's two YAML formats:
// provider manifests (`accord: provider/v1`, providers/*.yaml) and
// integration contracts (`accord: contract/v1`, contracts/*.yaml), plus pack
// presets (`accord: pack/v1`, pack.yaml).
//
// Files are parsed through yaml.Node so every problem is reported as a
// Diagnostic at file:line:col, and all problems of a file are reported at
// once. The Go types in this package are the single definition of both
// formats: the decoder validates against them (keys, types, enums, required
// keys) and the published JSON Schemas under schema/ are reflected from them.
//
// CEL expressions (trigger conditions and computed mapping fields) are
// type-checked at lint time in the environment built by CELEnv, which the
// mapping package uses again at run time, so an expression that lints clean
// evaluates against the same declarations.
//
// A null where a value is needed (an empty `-` list item, a key with
// nothing after it) is a diagnostic, never a nil the engine meets later.
// Expressions are also checked for fields the object does not declare.
//
// Lint holds each create or upsert to the guarantee of at most one target
// per source record: the target object needs a find_by_external_id
// endpoint or an idempotency_header on its create endpoint, unless the
// action (or the whole contract) says
//
//	duplicates:
//	  policy: tolerated
//	  reason: a repeated chat notification is noise, not harm
//
// in which case explain states the risk in plain language.
//
// The package is pure: no I/O besides reading the files it is asked to load.
package spec
