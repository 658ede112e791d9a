package spec

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written as Go does (90s, 5m, 24h) plus days
// (30d), because backfill windows and retry budgets are naturally in days.
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

var durationPattern = `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h|d))+$`

// ParseDuration parses "30s", "1h30m", "30d".
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("bad duration %q: use a number with a unit, e.g. 30s, 5m, 24h, 30d", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q: use a number with a unit, e.g. 30s, 5m, 24h, 30d", s)
	}
	return d, nil
}

func (d *Duration) decodeNode(dec *decoder, n *yaml.Node) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		dec.errorf(n, "expected a duration such as 30s, 5m, 24h or 30d, got %s", describe(n))
		return
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		dec.errorf(n, "%v", err)
		return
	}
	*d = Duration(v)
}

// JSONSchema describes Duration in the published schema.
func (Duration) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", Pattern: durationPattern, Description: "duration: a number with a unit (s, m, h, d), e.g. 60s, 24h, 30d"}
}

// String renders the duration in the largest whole unit, for explanations.
func (d Duration) String() string { return humanDuration(time.Duration(d)) }

func humanDuration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d == 0:
		return "0 seconds"
	case d%(24*time.Hour) == 0 && d >= 48*time.Hour:
		return plural(int64(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return plural(int64(d/time.Minute), "minute")
	case d%time.Second == 0:
		return plural(int64(d/time.Second), "second")
	}
	return d.String()
}

// ByteSize is a size in bytes, written as an integer or with a unit
// (512KiB, 1MiB, 1MB).
type ByteSize int64

var byteUnits = []struct {
	suffix string
	mult   int64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}

func (b *ByteSize) decodeNode(dec *decoder, n *yaml.Node) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		dec.errorf(n, "expected a size such as 1MiB, got %s", describe(n))
		return
	}
	s := strings.TrimSpace(n.Value)
	mult := int64(1)
	for _, u := range byteUnits {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > (1<<40)/mult {
		dec.errorf(n, "bad size %q: use bytes or a unit, e.g. 65536, 512KiB, 1MiB", n.Value)
		return
	}
	*b = ByteSize(v * mult)
}

// JSONSchema describes ByteSize in the published schema.
func (ByteSize) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{OneOf: []*jsonschema.Schema{
		{Type: "integer", Minimum: "0"},
		{Type: "string", Pattern: `^[0-9]+\s*(B|KB|MB|GB|KiB|MiB|GiB)?$`},
	}, Description: "size in bytes, or with a unit: 512KiB, 1MiB"}
}

// StatusRange is an inclusive range of HTTP status codes.
type StatusRange struct{ Lo, Hi int }

// StatusList is a set of HTTP statuses: one code (404), a class (5xx) or a
// range ("500-599"), alone or in a list.
type StatusList []StatusRange

var statusPattern = regexp.MustCompile(`^([1-5])xx$|^([1-5][0-9][0-9])(?:-([1-5][0-9][0-9]))?$`)

// Match reports whether status is in the list.
func (l StatusList) Match(status int) bool {
	for _, r := range l {
		if status >= r.Lo && status <= r.Hi {
			return true
		}
	}
	return false
}

func (l *StatusList) decodeNode(dec *decoder, n *yaml.Node) {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	for _, it := range items {
		m := statusPattern.FindStringSubmatch(it.Value)
		if it.Kind != yaml.ScalarNode || m == nil {
			dec.errorf(it, "bad status %s: use a code (404), a class (5xx) or a range (500-599)", describe(it))
			continue
		}
		switch {
		case m[1] != "":
			c, _ := strconv.Atoi(m[1])
			*l = append(*l, StatusRange{c * 100, c*100 + 99})
		default:
			lo, _ := strconv.Atoi(m[2])
			hi := lo
			if m[3] != "" {
				hi, _ = strconv.Atoi(m[3])
			}
			if hi < lo {
				dec.errorf(it, "bad status range %s: the end is before the start", it.Value)
				continue
			}
			*l = append(*l, StatusRange{lo, hi})
		}
	}
}

// JSONSchema describes StatusList in the published schema.
func (StatusList) JSONSchema() *jsonschema.Schema {
	one := func() *jsonschema.Schema {
		return &jsonschema.Schema{OneOf: []*jsonschema.Schema{
			{Type: "integer", Minimum: "100", Maximum: "599"},
			{Type: "string", Pattern: `^([1-5]xx|[1-5][0-9][0-9](-[1-5][0-9][0-9])?)$`},
		}}
	}
	s := one()
	s.OneOf = append(s.OneOf, &jsonschema.Schema{Type: "array", Items: one()})
	s.Description = "HTTP statuses: 404, 5xx, 500-599 or a list of them"
	return s
}

// EnumPair is one row of a value map.
type EnumPair struct {
	From string
	To   any
}

// EnumMap maps source values to target values, in the order written (the
// order is kept for explanations: low→3, med→2, high→1).
type EnumMap struct {
	Pairs []EnumPair
	pos   map[string]Pos
}

// Lookup returns the target value for a source value.
func (e *EnumMap) Lookup(from string) (any, bool) {
	for _, p := range e.Pairs {
		if p.From == from {
			return p.To, true
		}
	}
	return nil, false
}

func (e *EnumMap) decodeNode(dec *decoder, n *yaml.Node) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		dec.errorf(n, "expected a mapping of source value to target value, got %s", describe(n))
		return
	}
	e.pos = map[string]Pos{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			dec.errorf(k, "expected a source value, got %s", describe(k))
			continue
		}
		if _, dup := e.pos[k.Value]; dup {
			dec.errorf(k, "duplicate value `%s`", k.Value)
			continue
		}
		var to any
		if v.Kind != yaml.ScalarNode || v.Decode(&to) != nil {
			dec.errorf(v, "expected a single target value, got %s", describe(v))
			continue
		}
		e.pos[k.Value] = Pos{k.Line, k.Column}
		e.Pairs = append(e.Pairs, EnumPair{From: k.Value, To: normalize(to)})
	}
}

// JSONSchema describes EnumMap in the published schema.
func (EnumMap) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "object", Description: "source value → target value",
		AdditionalProperties: &jsonschema.Schema{AnyOf: []*jsonschema.Schema{
			{Type: "string"}, {Type: "number"}, {Type: "boolean"},
		}}}
}
