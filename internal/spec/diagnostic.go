package spec

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Diagnostic is one problem found in a file, at the position of the value
// that caused it. Line and Col are 1-based; 0 means unknown.
type Diagnostic struct {
	File    string
	Line    int
	Col     int
	Message string
	// Warning marks advice (an unused event) rather than an error: lint
	// prints it, but it does not make the files invalid.
	Warning bool
}

// String formats the diagnostic the way compilers do, so editors can jump to it.
func (d Diagnostic) String() string {
	msg := d.Message
	if d.Warning {
		msg = "warning: " + msg
	}
	if d.Line == 0 {
		// About the file as a whole (it cannot be read): there is no
		// position to give, and "file:0:0" would send editors nowhere.
		return fmt.Sprintf("%s: %s", d.File, msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Col, msg)
}

// Diagnostics is every problem found by a load or a lint, in file order.
type Diagnostics []Diagnostic

// Error joins the diagnostics one per line.
func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// Err returns nil when there are no diagnostics, so callers can write
// `if err := diags.Err(); err != nil`.
func (ds Diagnostics) Err() error {
	if len(ds) == 0 {
		return nil
	}
	return &InvalidError{Diagnostics: ds}
}

// ErrInvalid is matched (errors.Is) by every error built from Diagnostics.
var ErrInvalid = errors.New("spec: invalid")

// InvalidError carries the diagnostics of a file set that failed validation.
type InvalidError struct {
	Diagnostics Diagnostics
}

func (e *InvalidError) Error() string        { return e.Diagnostics.Error() }
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func (ds Diagnostics) sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// suggest returns the candidate closest to word when it is close enough to
// be a plausible typo, or "".
func suggest(word string, candidates []string) string {
	best, bestDist := "", len(word)/2+2
	if bestDist > 4 {
		bestDist = 4
	}
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(word), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// didYouMean renders the suggestion clause of a message, or "".
func didYouMean(word string, candidates []string) string {
	if s := suggest(word, candidates); s != "" {
		return fmt.Sprintf("; did you mean %s?", s)
	}
	return ""
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and adjacent transpositions ("titel" → "title")
// each cost one.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		// Nobody mistypes a 64-character key; avoid quadratic work on hostile input.
		return max(len(ra), len(rb))
	}
	pp := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], pp[j-2]+1)
			}
		}
		pp, prev, cur = prev, cur, pp
	}
	return prev[len(rb)]
}
