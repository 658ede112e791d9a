package contracttest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/accordhq/accord/internal/spec"
)

// LoadSuite reads and checks a test file. Every problem is a diagnostic at
// its file:line:col saying what to write instead; event files it names are
// read too.
func LoadSuite(file string) (*Suite, spec.Diagnostics) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, spec.Diagnostics{{File: file, Message: fmt.Sprintf("cannot read: %v", err)}}
	}
	return ParseSuite(file, data)
}

// ParseSuite is LoadSuite on data already read.
func ParseSuite(file string, data []byte) (*Suite, spec.Diagnostics) {
	d := &suiteDecoder{s: &Suite{File: file}, dir: filepath.Dir(file)}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line := 1
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		return nil, spec.Diagnostics{{File: file, Line: line, Col: 1, Message: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	if len(root.Content) == 0 {
		return nil, spec.Diagnostics{{File: file, Line: 1, Col: 1, Message: "empty file: a test file starts with `accord: test/v1`, names its `contract:` and lists `cases:`"}}
	}
	d.file(root.Content[0])
	if len(d.diags) > 0 {
		return nil, d.diags
	}
	return d.s, nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

type suiteDecoder struct {
	s     *Suite
	dir   string
	diags spec.Diagnostics
}

func (d *suiteDecoder) errorf(n *yaml.Node, format string, args ...any) {
	d.diags = append(d.diags, d.s.diag(pos(n), format, args...))
}

func pos(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }

// fields checks that n is a mapping whose keys are all in allowed and
// returns the values by key (nil when n is not a mapping).
func (d *suiteDecoder) fields(n *yaml.Node, what string, allowed ...string) map[string]*yaml.Node {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping (key: value lines), not %s", what, describe(n))
		return nil
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(allowed, k.Value) {
			hint := ""
			if near := nearest(k.Value, allowed); near != "" {
				hint = fmt.Sprintf("did you mean %q? ", near)
			}
			d.errorf(k, "unknown key %q in %s: %suse %s", k.Value, what, hint, strings.Join(allowed, ", "))
			continue
		}
		if _, dup := out[k.Value]; dup {
			d.errorf(k, "%s is given twice in %s: keep one", k.Value, what)
		}
		out[k.Value] = deref(v)
	}
	return out
}

// deref follows a YAML alias (*name) to its anchor (&name): an author may
// write the partner state once and reuse it.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func (d *suiteDecoder) file(n *yaml.Node) {
	f := d.fields(n, "the test file", "accord", "contract", "partner", "cases")
	if f == nil {
		return
	}
	switch {
	case f["accord"] == nil:
		d.errorf(n, "missing `accord: %s` (the format of this file)", Format)
	case f["accord"].Value != Format:
		d.errorf(f["accord"], "unknown format %q: a test file says `accord: %s`", f["accord"].Value, Format)
	}
	if c := f["contract"]; c == nil {
		d.errorf(n, "missing `contract:` naming the contract file under test, relative to this file (e.g. ../contracts/x.yaml)")
	} else if path := d.str(c, "contract"); path != "" {
		d.s.Contract = d.rel(path)
		if _, err := os.Stat(d.s.Contract); err != nil {
			d.errorf(c, "contract %s cannot be read (%v): name the contract file relative to this test file", path, err)
		}
	}
	cs := f["cases"]
	if cs == nil || cs.Kind != yaml.SequenceNode || len(cs.Content) == 0 {
		at := n
		if cs != nil {
			at = cs
		}
		d.errorf(at, "`cases:` must list at least one case (- name: …, event: …, expect: …)")
		return
	}
	// The file's partner state is where every case starts.
	shared := &Case{Records: map[string][]map[string]any{}}
	if v := f["partner"]; v != nil {
		d.partner(v, shared)
	}
	names := map[string]bool{}
	for _, cn := range cs.Content {
		c := d.testCase(deref(cn))
		if c == nil {
			continue
		}
		if names[c.Name] {
			d.errorf(cn, "two cases are named %q: names say which case failed, make them unique", c.Name)
		}
		names[c.Name] = true
		for k, recs := range shared.Records {
			c.Records[k] = append(slices.Clone(recs), c.Records[k]...)
		}
		c.Faults = append(slices.Clone(shared.Faults), c.Faults...)
		d.s.Cases = append(d.s.Cases, c)
	}
}

var stepKeys = []string{"event", "set", "type", "headers", "from", "pad_to", "retry", "expect"}

func (d *suiteDecoder) testCase(n *yaml.Node) *Case {
	f := d.fields(n, "a case", append([]string{"name", "cassette", "partner", "steps"}, stepKeys...)...)
	if f == nil {
		return nil
	}
	c := &Case{Pos: pos(n), Records: map[string][]map[string]any{}}
	if f["name"] == nil {
		d.errorf(n, "a case needs a `name:` saying what it shows")
	} else {
		c.Name = d.str(f["name"], "name")
	}
	if v := f["cassette"]; v != nil {
		c.Cassette = d.rel(d.str(v, "cassette"))
		if !strings.HasSuffix(c.Cassette, ".yaml") {
			d.errorf(v, "a cassette is a .yaml file: write %s.yaml", d.str(v, "cassette"))
		}
	}
	if v := f["partner"]; v != nil {
		d.partner(v, c)
	}
	inline := false
	for _, k := range stepKeys {
		inline = inline || f[k] != nil
	}
	switch steps := f["steps"]; {
	case steps != nil && inline:
		d.errorf(steps, "a case has either `steps:` or one step's keys (event, expect…) inline, not both")
	case steps != nil:
		if steps.Kind != yaml.SequenceNode || len(steps.Content) == 0 {
			d.errorf(steps, "`steps:` must list at least one step (- event: …, expect: …)")
			break
		}
		for _, sn := range steps.Content {
			if sf := d.fields(sn, "a step", stepKeys...); sf != nil {
				c.Steps = append(c.Steps, d.step(deref(sn), sf))
			}
		}
	case inline:
		c.Steps = []*Step{d.step(n, f)}
	default:
		d.errorf(n, "case %q sends nothing: give it an `event:` and an `expect:`, or `steps:`", c.Name)
	}
	if len(c.Steps) > 0 && c.Steps[0].Retry {
		d.errorf(n, "the first step cannot be `retry: true`: there is no earlier event to deliver again")
	}
	return c
}

func (d *suiteDecoder) partner(n *yaml.Node, c *Case) {
	f := d.fields(n, "partner", "records", "fail")
	if f == nil {
		return
	}
	if r := f["records"]; r != nil && d.fields(r, "partner.records", keysOf(r)...) != nil {
		for i := 0; i+1 < len(r.Content); i += 2 {
			k, v := r.Content[i], r.Content[i+1]
			if !strings.Contains(k.Value, ".") {
				d.errorf(k, "records are keyed by provider.object (e.g. hubspot.company), not %q", k.Value)
				continue
			}
			var recs []map[string]any
			if err := v.Decode(&recs); err != nil || v.Kind != yaml.SequenceNode {
				d.errorf(v, "%s: list the records, one mapping each (- {id: \"1\", name: Acme})", k.Value)
				continue
			}
			for i := range recs {
				recs[i] = normalize(recs[i]).(map[string]any)
			}
			c.Records[k.Value] = recs
		}
	}
	if fl := f["fail"]; fl != nil {
		if fl.Kind != yaml.SequenceNode {
			d.errorf(fl, "`fail:` lists faults (- {on: hubspot.company.create, class: rate_limited})")
			return
		}
		for _, fn := range fl.Content {
			fn = deref(fn)
			if ff := d.fields(fn, "a fault", "on", "class", "status", "retry_after", "times"); ff != nil {
				c.Faults = append(c.Faults, d.fault(fn, ff))
			}
		}
	}
}

var opNames = []string{OpCreate, OpUpdate, OpGet, OpList, OpDelete, OpFind, OpFindByExternalID}

var classNames = []string{spec.ClassAuth, spec.ClassPermission, spec.ClassValidation, spec.ClassRateLimited, spec.ClassTransient, spec.ClassNotFound}

func (d *suiteDecoder) fault(n *yaml.Node, f map[string]*yaml.Node) *FaultSpec {
	fs := &FaultSpec{Pos: pos(n)}
	if on := f["on"]; on == nil {
		d.errorf(n, "a fault needs `on: provider.object.operation` (e.g. hubspot.company.create)")
	} else if parts := strings.Split(d.str(on, "on"), "."); len(parts) != 3 || !slices.Contains(opNames, parts[2]) {
		d.errorf(on, "on %q: write provider.object.operation, the operation one of %s", on.Value, strings.Join(opNames, ", "))
	} else {
		fs.Provider, fs.Object, fs.Op = parts[0], parts[1], parts[2]
	}
	if v := f["class"]; v != nil {
		fs.Class = d.str(v, "class")
		if !slices.Contains(classNames, fs.Class) {
			d.errorf(v, "class %q: use one of %s", fs.Class, strings.Join(classNames, ", "))
		}
	}
	if v := f["status"]; v != nil {
		fs.Status = d.int(v, "status")
		if fs.Status < 400 || fs.Status > 599 {
			d.errorf(v, "status %d: a fault answers an error, 400 to 599", fs.Status)
		}
	}
	if fs.Class == "" && fs.Status == 0 {
		d.errorf(n, "a fault needs a `class:` (%s) or a `status:`", strings.Join(classNames, ", "))
	}
	if v := f["retry_after"]; v != nil {
		fs.RetryAfter = d.duration(v, "retry_after")
	}
	if v := f["times"]; v != nil {
		fs.Times = d.int(v, "times")
		if fs.Times < 1 {
			d.errorf(v, "times %d: how many calls fail, at least 1 (leave it out for every call)", fs.Times)
		}
	}
	return fs
}

func (d *suiteDecoder) step(n *yaml.Node, f map[string]*yaml.Node) *Step {
	st := &Step{Pos: pos(n)}
	if v := f["retry"]; v != nil {
		st.Retry = d.bool(v, "retry")
	}
	switch ev := f["event"]; {
	case ev != nil && st.Retry:
		d.errorf(ev, "a retry delivers the earlier event again: drop `event:` or `retry:`")
	case ev == nil && !st.Retry:
		d.errorf(n, "a step needs an `event:` (a JSON file relative to this file, or the body inline) or `retry: true`")
	case ev != nil && ev.Kind == yaml.ScalarNode:
		st.EventFile = d.rel(ev.Value)
		raw, err := os.ReadFile(st.EventFile)
		if err != nil {
			d.errorf(ev, "event file %s cannot be read (%v)", ev.Value, err)
			break
		}
		if err := json.Unmarshal(raw, &st.Event); err != nil {
			d.errorf(ev, "event file %s is not a JSON object: %v", ev.Value, err)
		}
	case ev != nil && ev.Kind == yaml.MappingNode:
		var m map[string]any
		if err := ev.Decode(&m); err != nil {
			d.errorf(ev, "the event: %v", err)
		}
		st.Event, _ = normalize(m).(map[string]any)
	case ev != nil:
		d.errorf(ev, "event must name a JSON file or be the body as a mapping, not %s", describe(ev))
	}
	if v := f["set"]; v != nil && d.fields(v, "set", keysOf(v)...) != nil {
		var m map[string]any
		_ = v.Decode(&m)
		st.Set, _ = normalize(m).(map[string]any)
	}
	if v := f["type"]; v != nil {
		st.Type = d.str(v, "type")
	}
	if v := f["headers"]; v != nil {
		st.Headers = d.strMap(v, "headers")
	}
	if v := f["from"]; v != nil {
		st.From = d.str(v, "from")
	}
	if v := f["pad_to"]; v != nil {
		st.PadTo = d.size(v, "pad_to")
	}
	if v := f["expect"]; v == nil {
		d.errorf(n, "a step needs an `expect:` (outcome, requests, record_error, status or retry_after): a step that checks nothing cannot fail")
	} else {
		st.Expect = d.expect(v)
	}
	return st
}

var outcomes = []string{"applied", "unchanged", "stale", "filtered", "failed", "no_installation", "retry", "duplicate", "ignored", "rejected"}

func (d *suiteDecoder) expect(n *yaml.Node) Expect {
	e := Expect{Pos: pos(n)}
	f := d.fields(n, "expect", "outcome", "requests", "record_error", "status", "retry_after")
	if f == nil {
		return e
	}
	if len(f) == 0 {
		d.errorf(n, "`expect:` is empty: say what must follow (outcome, requests, record_error, status or retry_after)")
	}
	if v := f["outcome"]; v != nil {
		e.Outcome = d.str(v, "outcome")
		if !slices.Contains(outcomes, e.Outcome) {
			d.errorf(v, "outcome %q: use one of %s", e.Outcome, strings.Join(outcomes, ", "))
		}
	}
	if v := f["record_error"]; v != nil {
		e.RecordError = d.str(v, "record_error")
	}
	if v := f["status"]; v != nil {
		e.Status = d.int(v, "status")
	}
	if v := f["retry_after"]; v != nil {
		e.RetryAfter = d.duration(v, "retry_after")
	}
	if v := f["requests"]; v != nil {
		if v.Kind != yaml.SequenceNode {
			d.errorf(v, "`requests:` lists the partner requests in order (- {method: POST, path: /v1/x, body: {…}}), or [] for none")
			return e
		}
		reqs := []RequestSpec{}
		for _, rn := range v.Content {
			rn = deref(rn)
			rf := d.fields(rn, "a request", "provider", "method", "path", "body", "headers")
			if rf == nil {
				continue
			}
			r := RequestSpec{Pos: pos(rn)}
			if rf["method"] == nil || rf["path"] == nil {
				d.errorf(rn, "a request needs `method:` and `path:` (below the provider's base URL)")
				continue
			}
			r.Method = strings.ToUpper(d.str(rf["method"], "method"))
			r.Path = d.str(rf["path"], "path")
			if !strings.HasPrefix(r.Path, "/") {
				d.errorf(rf["path"], "path %q: write it from the base URL's root, starting with /", r.Path)
			}
			if p := rf["provider"]; p != nil {
				r.Provider = d.str(p, "provider")
			}
			if b := rf["body"]; b != nil {
				var body any
				if err := b.Decode(&body); err != nil {
					d.errorf(b, "body: %v", err)
				}
				r.Body = normalize(body)
			}
			if h := rf["headers"]; h != nil {
				r.Headers = d.strMap(h, "headers")
			}
			reqs = append(reqs, r)
		}
		e.Requests = &reqs
	}
	return e
}

func (d *suiteDecoder) rel(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(d.dir, p)
}

func (d *suiteDecoder) str(n *yaml.Node, what string) string {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, "%s must be a single value, not %s", what, describe(n))
		return ""
	}
	return n.Value
}

func (d *suiteDecoder) int(n *yaml.Node, what string) int {
	i, err := strconv.Atoi(d.str(n, what))
	if err != nil && n.Kind == yaml.ScalarNode {
		d.errorf(n, "%s %q: write a whole number", what, n.Value)
	}
	return i
}

func (d *suiteDecoder) bool(n *yaml.Node, what string) bool {
	b, err := strconv.ParseBool(d.str(n, what))
	if err != nil && n.Kind == yaml.ScalarNode {
		d.errorf(n, "%s %q: write true or false", what, n.Value)
	}
	return b
}

func (d *suiteDecoder) duration(n *yaml.Node, what string) time.Duration {
	s := d.str(n, what)
	if secs, err := strconv.Atoi(s); err == nil {
		return time.Duration(secs) * time.Second
	}
	v, err := time.ParseDuration(s)
	if err != nil && n.Kind == yaml.ScalarNode {
		d.errorf(n, "%s %q: write a duration such as 30s or 2m", what, s)
	}
	return v
}

var sizePattern = regexp.MustCompile(`^(\d+)\s*(B|KiB|MiB|KB|MB)?$`)

func (d *suiteDecoder) size(n *yaml.Node, what string) int64 {
	m := sizePattern.FindStringSubmatch(d.str(n, what))
	if m == nil {
		if n.Kind == yaml.ScalarNode {
			d.errorf(n, "%s %q: write a size such as 2MiB, 1500KB or 4096", what, n.Value)
		}
		return 0
	}
	v, _ := strconv.ParseInt(m[1], 10, 64)
	return v * map[string]int64{"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "KB": 1000, "MB": 1000_000}[m[2]]
}

func (d *suiteDecoder) strMap(n *yaml.Node, what string) map[string]string {
	if d.fields(n, what, keysOf(n)...) == nil {
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[n.Content[i].Value] = d.str(n.Content[i+1], what+"."+n.Content[i].Value)
	}
	return out
}

func keysOf(n *yaml.Node) []string {
	var ks []string
	if n.Kind == yaml.MappingNode {
		for i := 0; i < len(n.Content); i += 2 {
			ks = append(ks, n.Content[i].Value)
		}
	}
	return ks
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return fmt.Sprintf("%q", n.Value)
}

// normalize turns YAML-decoded values into what JSON decoding gives
// (numbers as float64), so expectations compare with what was sent.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// nearest is the allowed key closest to k, when it is a likely typo.
func nearest(k string, allowed []string) string {
	best, bestD := "", 3
	for _, a := range allowed {
		if dd := editDistance(k, a); dd < bestD {
			best, bestD = a, dd
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
