// Package packs holds the packs shipped with Accord: each directory is one
// pack (pack.yaml, providers/, contracts/). They are embedded in the binary,
// so `accord serve` and `accord demo` run them from any directory; the
// --packs directory adds packs or overrides shipped ones by directory name.
package packs

import "embed"

// FS holds every shipped pack, as <pack>/pack.yaml, <pack>/providers/*.yaml
// and <pack>/contracts/*.yaml.
//
//go:embed */pack.yaml */providers/*.yaml */contracts/*.yaml
var FS embed.FS
