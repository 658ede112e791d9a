package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Incident is an incident as the API returns it.
type Incident struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Severity    int       `json:"severity"` // 1 (worst) … 3
	Link        string    `json:"link"`
	ExternalID  string    `json:"external_id"`
	Status      string    `json:"status"` // triggered | acknowledged | resolved
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Incidents scopes; the configured token holds both.
const (
	ScopeIncidentsRead  = "incidents.read"
	ScopeIncidentsWrite = "incidents.write"
)

var incidentStatuses = []string{"triggered", "acknowledged", "resolved"}

// incidentFields is the "incident" object of POST and PATCH bodies; nil
// means absent (PATCH leaves the field alone, POST uses the default).
type incidentFields struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Severity    *int    `json:"severity"`
	Link        *string `json:"link"`
	ExternalID  *string `json:"external_id"`
	Status      *string `json:"status"`
}

type incidentEnvelope struct {
	Incident *incidentFields `json:"incident"`
}

// Incidents simulates an incident tool with idempotency keys, scopes and a
// token-bucket rate limit (Config.RateLimit, Config.RateBurst).
//
//	POST  /v1/incidents                     (201; Idempotency-Key honoured)
//	GET   /v1/incidents/{id}
//	PATCH /v1/incidents/{id}
//	GET   /v1/incidents?external_id=X       → {"incidents":[…]}
type Incidents struct {
	*base

	mu        sync.Mutex
	incidents []*Incident
	byID      map[string]*Incident
	// byExternal indexes incidents by external id, in creation order:
	// the lookup before each create must not scan every incident, or the
	// simulator, not Accord, bounds a load test.
	byExternal map[string][]*Incident
	// revs counts each incident's changes: its ETag is "<rev>", and a
	// PATCH with an If-Match that is not the current ETag is refused (412),
	// as conditional-write APIs do.
	revs map[string]int
	keys idempotencyKeys
}

// NewIncidents returns an empty incident tool.
func NewIncidents(cfg *Config) *Incidents {
	c := cfg.withDefaults()
	s := &Incidents{
		base: newBase(c, []string{ScopeIncidentsRead, ScopeIncidentsWrite}, true),
		byID: map[string]*Incident{}, byExternal: map[string][]*Incident{}, revs: map[string]int{}, keys: idempotencyKeys{},
	}
	mux := http.NewServeMux()
	mux.Handle("POST /v1/incidents", s.authed(ScopeIncidentsWrite, s.create))
	mux.Handle("GET /v1/incidents", s.authed(ScopeIncidentsRead, s.list))
	mux.Handle("GET /v1/incidents/{id}", s.authed(ScopeIncidentsRead, s.get))
	mux.Handle("PATCH /v1/incidents/{id}", s.authed(ScopeIncidentsWrite, s.patch))
	s.setRoutes(mux)
	return s
}

// Incidents returns every incident in creation order.
func (s *Incidents) Incidents() []Incident {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Incident, len(s.incidents))
	for i, in := range s.incidents {
		out[i] = *in
	}
	return out
}

// Count is the number of incidents created: what a duplicate-creation test
// checks.
func (s *Incidents) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.incidents)
}

// Incident returns one incident.
func (s *Incidents) Incident(id string) (Incident, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.byID[id]
	if !ok {
		return Incident{}, fmt.Errorf("incident %s: %w", id, ErrNotFound)
	}
	return *in, nil
}

func applyIncident(in *Incident, f *incidentFields) error {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&in.Title, f.Title)
	set(&in.Description, f.Description)
	set(&in.Link, f.Link)
	set(&in.ExternalID, f.ExternalID)
	set(&in.Status, f.Status)
	if f.Severity != nil {
		in.Severity = *f.Severity
	}
	switch {
	case strings.TrimSpace(in.Title) == "":
		return &ValidationError{"title is required"}
	case in.Severity < 1 || in.Severity > 3:
		return &ValidationError{"severity must be between 1 and 3"}
	case !slices.Contains(incidentStatuses, in.Status):
		return &ValidationError{"status must be one of " + strings.Join(incidentStatuses, ", ")}
	}
	return nil
}

// readEnvelope reads {"incident":{…}} and returns the raw body too, for the
// idempotency comparison.
func readEnvelope(w http.ResponseWriter, r *http.Request) (*incidentFields, []byte, bool) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "request body too large")
		return nil, nil, false
	}
	var env incidentEnvelope
	if err := json.Unmarshal(raw, &env); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body")
		return nil, nil, false
	}
	if env.Incident == nil {
		writeError(w, http.StatusUnprocessableEntity, "incident is required")
		return nil, nil, false
	}
	return env.Incident, raw, true
}

// canonicalJSON makes key order and whitespace irrelevant to the
// idempotency comparison, as a retrying client may re-encode its body.
func canonicalJSON(raw []byte) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *Incidents) create(w http.ResponseWriter, r *http.Request) {
	f, raw, ok := readEnvelope(w, r)
	if !ok {
		return
	}
	key := r.Header.Get("Idempotency-Key")
	canon := canonicalJSON(raw)

	// One lock over lookup, create and store, so two concurrent requests
	// with one key create one incident.
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys.replay(w, key, canon) {
		return
	}
	now := s.cfg.Now().UTC()
	in := Incident{Severity: 3, Status: "triggered", CreatedAt: now, UpdatedAt: now}
	f.Status = nil // a new incident is always triggered
	if err := applyIncident(&in, f); err != nil {
		writeOutcome(w, err)
		return
	}
	in.ID = "inc_" + strconv.Itoa(len(s.incidents)+1)
	s.incidents = append(s.incidents, &in)
	s.byID[in.ID] = &in
	s.byExternal[in.ExternalID] = append(s.byExternal[in.ExternalID], &in)
	s.revs[in.ID] = 1
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(map[string]Incident{"incident": in})
	s.keys.remember(key, canon, http.StatusCreated, buf.Bytes())
	w.Header().Set("ETag", s.etag(in.ID))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(buf.Bytes())
}

func (s *Incidents) patch(w http.ResponseWriter, r *http.Request) {
	f, _, ok := readEnvelope(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, found := s.byID[r.PathValue("id")]
	if !found {
		writeError(w, http.StatusNotFound, "incident not found")
		return
	}
	if m := r.Header.Get("If-Match"); m != "" && m != s.etag(cur.ID) {
		w.Header().Set("ETag", s.etag(cur.ID))
		writeError(w, http.StatusPreconditionFailed, "incident changed since "+m+" (now "+s.etag(cur.ID)+")")
		return
	}
	next := *cur
	if err := applyIncident(&next, f); err != nil {
		writeOutcome(w, err)
		return
	}
	if next != *cur {
		next.UpdatedAt = s.cfg.Now().UTC()
		if next.ExternalID != cur.ExternalID {
			old := s.byExternal[cur.ExternalID]
			for i, in := range old {
				if in == cur {
					s.byExternal[cur.ExternalID] = append(old[:i:i], old[i+1:]...)
					break
				}
			}
			s.byExternal[next.ExternalID] = append(s.byExternal[next.ExternalID], cur)
		}
		*cur = next
		s.revs[cur.ID]++
	}
	w.Header().Set("ETag", s.etag(cur.ID))
	writeJSON(w, http.StatusOK, map[string]Incident{"incident": next})
}

// etag is an incident's current ETag; the caller holds s.mu.
func (s *Incidents) etag(id string) string { return `"` + strconv.Itoa(s.revs[id]) + `"` }

func (s *Incidents) get(w http.ResponseWriter, r *http.Request) {
	in, err := s.Incident(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusNotFound, "incident not found")
		return
	}
	s.mu.Lock()
	w.Header().Set("ETag", s.etag(in.ID))
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]Incident{"incident": in})
}

func (s *Incidents) list(w http.ResponseWriter, r *http.Request) {
	ext, filtered := r.URL.Query()["external_id"]
	out := []Incident{}
	s.mu.Lock()
	all := s.incidents
	if filtered {
		all = s.byExternal[ext[0]]
	}
	for _, in := range all {
		out = append(out, *in)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string][]Incident{"incidents": out})
}
