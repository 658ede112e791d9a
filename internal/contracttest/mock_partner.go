package contracttest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/accordhq/accord/internal/spec"
)

// Partner operations, as test files name them in a fault's `on`.
const (
	OpList             = "list"
	OpGet              = "get"
	OpCreate           = "create"
	OpUpdate           = "update"
	OpDelete           = "delete"
	OpFindByExternalID = "find_by_external_id"
	OpFind             = "find"
)

// Fault makes the mock answer calls to one object's operation with an
// error instead of doing them.
type Fault struct {
	Object string
	Op     string
	// Class is an error class of the manifest (rate_limited, permission…):
	// the mock answers with the first status its error rules give that
	// class. Status, when set, is used instead.
	Class  string
	Status int
	// RetryAfter is sent as Retry-After (seconds); rate_limited defaults
	// to one second.
	RetryAfter time.Duration
	// Times is how many calls fail; 0 means every call.
	Times int
}

// MockPartner answers every endpoint a provider manifest declares, with
// bodies shaped as the manifest says (item, items and id paths, the id
// field, read-only timestamps), and keeps what is created so that later
// lookups, finds, gets and updates see it. It is what a case runs against
// when it has no cassette.
type MockPartner struct {
	p       *spec.Provider
	now     func() time.Time
	journal *journal
	routes  []route

	mu      sync.Mutex
	records map[string][]map[string]any // by object, in creation order
	seq     int
	idem    map[string]map[string]any // idempotency key → created record
	faults  []*faultState
}

type faultState struct {
	Fault
	used int
}

type route struct {
	object *spec.Object
	op     string
	ep     *spec.Endpoint
	method string
	segs   []string          // literal segments, or {name}
	query  map[string]string // template query: key → value template
}

var _ http.Handler = (*MockPartner)(nil)

// NewMockPartner builds the mock of p. now stamps created and updated
// records; j, when not nil, receives every exchange.
func NewMockPartner(p *spec.Provider, now func() time.Time, j *journal) *MockPartner {
	if now == nil {
		now = time.Now
	}
	if j == nil {
		j = &journal{}
	}
	m := &MockPartner{p: p, now: now, journal: j, records: map[string][]map[string]any{}, idem: map[string]map[string]any{}}
	for _, name := range slices.Sorted(maps.Keys(p.Objects)) {
		o := p.Objects[name]
		e := o.Endpoints
		for _, r := range []struct {
			op string
			ep *spec.Endpoint
		}{{OpFind, e.Find}, {OpFindByExternalID, e.FindByExternalID}, {OpList, e.List}, {OpGet, e.Get}, {OpCreate, e.Create}, {OpUpdate, e.Update}, {OpDelete, e.Delete}} {
			if r.ep != nil {
				m.routes = append(m.routes, newRoute(o, r.op, r.ep))
			}
		}
	}
	// The most specific template wins: more query keys, then more literal
	// segments (a find on GET /contacts?email= before the list on GET
	// /contacts).
	sort.SliceStable(m.routes, func(i, j int) bool {
		a, b := m.routes[i], m.routes[j]
		if len(a.query) != len(b.query) {
			return len(a.query) > len(b.query)
		}
		return literals(a.segs) > literals(b.segs)
	})
	return m
}

func newRoute(o *spec.Object, op string, ep *spec.Endpoint) route {
	p, q, _ := strings.Cut(ep.Path, "?")
	r := route{object: o, op: op, ep: ep, method: ep.Method, segs: strings.Split(strings.Trim(p, "/"), "/"), query: map[string]string{}}
	if vals, err := url.ParseQuery(q); err == nil {
		for k, v := range vals {
			r.query[k] = v[0]
		}
	}
	for k, v := range ep.Query {
		r.query[k] = v
	}
	return r
}

func literals(segs []string) int {
	n := 0
	for _, s := range segs {
		if !strings.HasPrefix(s, "{") {
			n++
		}
	}
	return n
}

// match returns the path's {name} values when r serves the request.
func (r route) match(method string, u *url.URL) (map[string]string, bool) {
	if method != r.method {
		return nil, false
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(segs) != len(r.segs) {
		return nil, false
	}
	vars := map[string]string{}
	for i, s := range r.segs {
		if m := placeholderRE.FindStringSubmatch(s); m != nil && m[0] == s {
			vars[m[1]] = segs[i]
			continue
		}
		if s != segs[i] {
			return nil, false
		}
	}
	q := u.Query()
	for k, tmpl := range r.query {
		if !q.Has(k) {
			return nil, false
		}
		if m := placeholderRE.FindStringSubmatch(tmpl); m != nil && m[0] == tmpl {
			vars[m[1]] = q.Get(k)
		}
	}
	return vars, true
}

var placeholderRE = regexp.MustCompile(`\{([^{}]+)\}`)

// Seed adds records that exist before the case starts; a record without
// its id field gets a generated one.
func (m *MockPartner) Seed(object string, recs []map[string]any) error {
	o := m.p.Objects[object]
	if o == nil {
		return fmt.Errorf("provider %s has no object %q", m.p.Name, object)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range recs {
		r = deepCopy(r)
		if _, ok := r[o.IDField()]; !ok {
			r[o.IDField()] = m.nextID(o)
		}
		m.records[object] = append(m.records[object], r)
	}
	return nil
}

// Fail adds a fault; faults are tried in the order they were added.
func (m *MockPartner) Fail(f Fault) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults = append(m.faults, &faultState{Fault: f})
}

// Records returns a copy of the object's records, in creation order.
func (m *MockPartner) Records(object string) []map[string]any {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]map[string]any, len(m.records[object]))
	for i, r := range m.records[object] {
		out[i] = deepCopy(r)
	}
	return out
}

func (m *MockPartner) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	x := Exchange{Provider: m.p.Name, Method: r.Method, Path: r.URL.RequestURI(), Header: redactHeader(r.Header), Body: decodeBody(raw)}
	status, header, answer := m.answer(r, x.Body)
	for k, v := range header {
		w.Header()[k] = v
	}
	x.Status, x.Answer = status, answer
	m.journal.add(x)
	if answer == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(answer)
}

func (m *MockPartner) answer(r *http.Request, body any) (int, http.Header, any) {
	var rt *route
	var vars map[string]string
	for i := range m.routes {
		if v, ok := m.routes[i].match(r.Method, r.URL); ok {
			rt, vars = &m.routes[i], v
			break
		}
	}
	if rt == nil {
		return m.errorAnswer(spec.ClassNotFound, http.StatusNotFound, 0,
			fmt.Sprintf("accord mock: the %s manifest declares no endpoint for %s %s", m.p.Name, r.Method, r.URL.Path))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if f := m.fault(rt.object.Name, rt.op); f != nil {
		return m.errorAnswer(f.Class, f.Status, f.RetryAfter, fmt.Sprintf("accord mock: %s %s fails as the test asked", rt.object.Name, rt.op))
	}
	o, ep := rt.object, rt.ep
	switch rt.op {
	case OpCreate:
		doc := unwrap(body, ep.Body)
		if k := r.Header.Get(ep.IdempotencyHeader); ep.IdempotencyHeader != "" && k != "" {
			if rec, seen := m.idem[k]; seen {
				return http.StatusOK, nil, shape(ep, o, deepCopy(rec))
			}
		}
		rec := deepCopy(doc)
		for k, v := range vars { // a path field ({channel}) is the record's too
			rec[k] = v
		}
		rec[o.IDField()] = m.nextID(o)
		m.stamp(o, rec, true)
		m.records[o.Name] = append(m.records[o.Name], rec)
		if k := r.Header.Get(ep.IdempotencyHeader); ep.IdempotencyHeader != "" && k != "" {
			m.idem[k] = rec
		}
		return http.StatusCreated, nil, shape(ep, o, deepCopy(rec))
	case OpUpdate, OpGet, OpDelete:
		i := m.index(o, vars["id"])
		if i < 0 {
			return m.errorAnswer(spec.ClassNotFound, http.StatusNotFound, 0, fmt.Sprintf("accord mock: no %s %q", o.Name, vars["id"]))
		}
		rec := m.records[o.Name][i]
		switch rt.op {
		case OpDelete:
			m.records[o.Name] = slices.Delete(m.records[o.Name], i, i+1)
			return http.StatusNoContent, nil, nil
		case OpUpdate:
			merge(rec, unwrap(body, ep.Body))
			m.stamp(o, rec, false)
		}
		return http.StatusOK, nil, shape(ep, o, deepCopy(rec))
	case OpFindByExternalID:
		found := m.search(o, func(rec map[string]any) bool {
			for k, tmpl := range rt.query {
				if strings.Contains(tmpl, "{external_id}") && hasField(rec, k, vars["external_id"]) {
					return true
				}
			}
			return hasValue(rec, vars["external_id"])
		})
		if ep.Items == "" {
			if len(found) == 0 {
				return m.errorAnswer(spec.ClassNotFound, http.StatusNotFound, 0, "accord mock: no match")
			}
			return http.StatusOK, nil, shape(ep, o, found[0])
		}
		return http.StatusOK, nil, list(ep, o, found)
	case OpFind:
		want := maps.Clone(vars)
		if ep.Request != nil {
			placeholdersIn(ep.Request, body, want)
		}
		return http.StatusOK, nil, list(ep, o, m.search(o, func(rec map[string]any) bool {
			for k, v := range want {
				if !hasField(rec, k, v) {
					return false
				}
			}
			return true
		}))
	default: // list
		return http.StatusOK, nil, list(ep, o, m.search(o, func(map[string]any) bool { return true }))
	}
}

// fault returns the first fault for the call that has failures left, and
// uses one up. The caller holds m.mu.
func (m *MockPartner) fault(object, op string) *Fault {
	for _, f := range m.faults {
		if f.Object == object && f.Op == op && (f.Times == 0 || f.used < f.Times) {
			f.used++
			return &f.Fault
		}
	}
	return nil
}

// errorAnswer is how the partner says class: the status its manifest's
// rules give the class (or status when set), the message where the
// manifest reads it, and the text a body_contains rule looks for.
func (m *MockPartner) errorAnswer(class string, status int, retryAfter time.Duration, msg string) (int, http.Header, any) {
	var contains string
	if status == 0 && m.p.Errors != nil {
		for _, rule := range m.p.Errors.Rules {
			if rule.Class == class && len(rule.Status) > 0 {
				status, contains = rule.Status[0].Lo, rule.BodyContains
				if rule.Status[0].Lo%100 == 0 && rule.Status[0].Hi == rule.Status[0].Lo+99 {
					status = rule.Status[0].Lo + 3 // 5xx: 503
				}
				break
			}
		}
	}
	if status == 0 {
		status = defaultStatus[class]
	}
	if status == 0 {
		status = http.StatusBadRequest
	}
	h := http.Header{}
	if class == spec.ClassRateLimited || status == http.StatusTooManyRequests || retryAfter > 0 {
		if retryAfter <= 0 {
			retryAfter = time.Second
		}
		h.Set("Retry-After", strconv.Itoa(int(retryAfter.Round(time.Second)/time.Second)))
	}
	if contains != "" {
		msg = contains + ": " + msg
	}
	path := "message"
	if m.p.Errors != nil && m.p.Errors.Message != "" {
		path = m.p.Errors.Message
	}
	doc := map[string]any{}
	setPath(doc, path, msg)
	if contains != "" {
		doc["detail"] = contains
	}
	return status, h, doc
}

var defaultStatus = map[string]int{
	spec.ClassAuth: 401, spec.ClassPermission: 403, spec.ClassNotFound: 404, spec.ClassValidation: 422,
	spec.ClassRateLimited: 429, spec.ClassTransient: 503,
}

func (m *MockPartner) nextID(o *spec.Object) any {
	m.seq++
	if f := o.Fields[o.IDField()]; f != nil && f.Type == spec.TypeInt {
		return 1000 + m.seq
	}
	return fmt.Sprintf("%s_%d", o.Name, 1000+m.seq)
}

func (m *MockPartner) index(o *spec.Object, id string) int {
	for i, r := range m.records[o.Name] {
		if fmt.Sprint(r[o.IDField()]) == id {
			return i
		}
	}
	return -1
}

// stamp sets what the partner itself maintains: read-only timestamps and
// the version field.
func (m *MockPartner) stamp(o *spec.Object, rec map[string]any, created bool) {
	now := m.now().UTC().Format(time.RFC3339)
	for name, f := range o.Fields {
		if f.ReadOnly && f.Type == spec.TypeTimestamp && (created || name == o.UpdatedAt || name == o.Version) {
			rec[name] = now
		}
	}
	if f := o.Fields[o.Version]; f != nil && f.Type == spec.TypeInt {
		n, _ := strconv.Atoi(fmt.Sprint(rec[o.Version]))
		rec[o.Version] = n + 1
	}
}

func (m *MockPartner) search(o *spec.Object, keep func(map[string]any) bool) []map[string]any {
	var out []map[string]any
	for _, r := range m.records[o.Name] {
		if keep(r) {
			out = append(out, deepCopy(r))
		}
	}
	return out
}

// shape places a record where the endpoint's answer has it.
func shape(ep *spec.Endpoint, o *spec.Object, rec map[string]any) any {
	doc := rec
	if ep.Item != "" {
		doc = map[string]any{}
		setPath(doc, ep.Item, rec)
	}
	switch {
	case ep.IDPath != "":
		if _, ok := spec.Get(doc, ep.IDPath); !ok {
			setPath(doc, ep.IDPath, rec[o.IDField()])
		}
	case ep.Item != "":
		doc[o.IDField()] = rec[o.IDField()] // beside the item, as CRMs answer
	}
	return doc
}

// list answers a list, lookup or search: each item shaped as a single
// answer would be.
func list(ep *spec.Endpoint, o *spec.Object, recs []map[string]any) any {
	items := make([]any, len(recs))
	for i, r := range recs {
		items[i] = shape(ep, o, r)
	}
	if ep.Items == "" {
		return items
	}
	doc := map[string]any{}
	setPath(doc, ep.Items, items)
	return doc
}

func unwrap(body any, key string) map[string]any {
	m, _ := body.(map[string]any)
	if key != "" {
		m, _ = m[key].(map[string]any)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m
}

// placeholdersIn reads the request values that a find's body template
// puts where it says "{field}".
func placeholdersIn(tmpl, got any, out map[string]string) {
	switch t := tmpl.(type) {
	case string:
		if m := placeholderRE.FindStringSubmatch(t); m != nil && m[0] == t && got != nil {
			out[m[1]] = fmt.Sprint(got)
		}
	case map[string]any:
		g, _ := got.(map[string]any)
		for k, v := range t {
			placeholdersIn(v, g[k], out)
		}
	case []any:
		g, _ := got.([]any)
		for i, v := range t {
			if i < len(g) {
				placeholdersIn(v, g[i], out)
			}
		}
	}
}

// hasField reports whether rec holds value under a field named name, at
// any depth (a CRM keeps them under properties).
func hasField(rec map[string]any, name, value string) bool {
	for k, v := range rec {
		if k == name && fmt.Sprint(v) == value {
			return true
		}
		if sub, ok := v.(map[string]any); ok && hasField(sub, name, value) {
			return true
		}
	}
	return false
}

func hasValue(rec map[string]any, value string) bool {
	for _, v := range rec {
		if sub, ok := v.(map[string]any); ok {
			if hasValue(sub, value) {
				return true
			}
		} else if fmt.Sprint(v) == value {
			return true
		}
	}
	return false
}

func setPath(doc map[string]any, path string, v any) {
	segs := strings.Split(path, ".")
	for _, s := range segs[:len(segs)-1] {
		next, ok := doc[s].(map[string]any)
		if !ok {
			next = map[string]any{}
			doc[s] = next
		}
		doc = next
	}
	doc[segs[len(segs)-1]] = v
}

// merge writes src into dst, nested objects field by field, as a PATCH
// does.
func merge(dst, src map[string]any) {
	for k, v := range src {
		if sv, ok := v.(map[string]any); ok {
			if dv, ok := dst[k].(map[string]any); ok {
				merge(dv, sv)
				continue
			}
		}
		dst[k] = deepCopyValue(v)
	}
}

func deepCopy(m map[string]any) map[string]any {
	out, _ := deepCopyValue(m).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	return out
}

func deepCopyValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = deepCopyValue(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = deepCopyValue(x)
		}
		return out
	}
	return v
}
