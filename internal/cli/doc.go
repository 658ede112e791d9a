// Package cli implements the accord command line, one file per command.
// main calls Run; each command registers itself in commands.
package cli
