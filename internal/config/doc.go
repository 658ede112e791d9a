// Package config loads the process configuration of one Accord process from
// accord.yaml, the environment (ACCORD_*) and command-line flags, in that
// order of precedence: a flag overrides the environment, which overrides the
// file, which overrides the documented default.
//
// Every setting is declared once, as a tagged field of Config; the same
// declaration drives the file keys, the environment names, the flags and
// their help text. Fields tagged secret:"true" are never printed.
package config
