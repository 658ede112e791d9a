package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Company is a CRM company as the API returns it: HubSpot's shape, every
// field a text property.
type Company struct {
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
	CreatedAt  time.Time         `json:"createdAt"`
	UpdatedAt  time.Time         `json:"updatedAt"`
	// indexedAt is when search sees the company's current properties;
	// search answers from the indexed copy until then.
	indexedAt time.Time
	indexed   map[string]string
}

// CRM scopes; the configured token holds both.
const (
	ScopeCompaniesRead  = "crm.objects.companies.read"
	ScopeCompaniesWrite = "crm.objects.companies.write"
)

// CRM simulates a HubSpot-shaped CRM: companies with no unique key, found
// through a search endpoint whose index lags behind writes
// (Config.SearchLag), and a per-token rate limit (Config.RateLimit).
//
//	POST  /crm/v3/objects/companies          {"properties":{…}} → 201
//	GET   /crm/v3/objects/companies?limit=&after=&updatedSince=   → {"results":[…],"paging":{"next":{"after":…}}}
//	GET   /crm/v3/objects/companies/{id}
//	PATCH /crm/v3/objects/companies/{id}     {"properties":{…}}
//	POST  /crm/v3/objects/companies/search   {"filterGroups":[{"filters":[{"propertyName","operator":"EQ","value"}]}]}
//	                                         → {"total":n,"results":[…]}
//
// Errors are HubSpot's: {"status":"error","message":…,"category":…}.
type CRM struct {
	*base

	mu        sync.Mutex
	companies []*Company
	byID      map[string]*Company
	// created numbers the companies ever made: ids are never reused after
	// a delete.
	created int
}

// NewCRM returns a CRM with no companies.
func NewCRM(cfg *Config) *CRM {
	c := cfg.withDefaults()
	s := &CRM{base: newBase(c, []string{ScopeCompaniesRead, ScopeCompaniesWrite}, true), byID: map[string]*Company{}}
	mux := http.NewServeMux()
	mux.Handle("POST /crm/v3/objects/companies", s.authed(ScopeCompaniesWrite, s.create))
	mux.Handle("GET /crm/v3/objects/companies", s.authed(ScopeCompaniesRead, s.list))
	mux.Handle("GET /crm/v3/objects/companies/{id}", s.authed(ScopeCompaniesRead, s.get))
	mux.Handle("PATCH /crm/v3/objects/companies/{id}", s.authed(ScopeCompaniesWrite, s.patch))
	mux.Handle("DELETE /crm/v3/objects/companies/{id}", s.authed(ScopeCompaniesWrite, s.archive))
	mux.Handle("POST /crm/v3/objects/companies/search", s.authed(ScopeCompaniesRead, s.search))
	s.setRoutes(mux)
	return s
}

// Companies returns every company in creation order.
func (s *CRM) Companies() []Company {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Company, len(s.companies))
	for i, c := range s.companies {
		out[i] = *c
		out[i].Properties = clone(c.Properties)
	}
	return out
}

// Count is the number of companies created.
func (s *CRM) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.companies)
}

// CreateCompany creates a company as a CRM user would, outside Accord; it
// appears in search after Config.SearchLag.
func (s *CRM) CreateCompany(props map[string]string) Company {
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &Company{ID: strconv.Itoa(1000 + s.created), Properties: clone(props), CreatedAt: now, UpdatedAt: now, indexedAt: now.Add(s.cfg.SearchLag)}
	s.companies = append(s.companies, c)
	s.created++
	s.byID[c.ID] = c
	return s.view(c)
}

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func crmError(w http.ResponseWriter, status int, category, msg string) {
	writeJSON(w, status, map[string]string{"status": "error", "message": msg, "category": category})
}

// readProperties reads {"properties":{…}}; values of any JSON type are
// stored as text, as HubSpot does.
func readProperties(w http.ResponseWriter, r *http.Request) (map[string]string, bool) {
	var body struct {
		Properties map[string]any `json:"properties"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		crmError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON: "+err.Error())
		return nil, false
	}
	if body.Properties == nil {
		crmError(w, http.StatusBadRequest, "VALIDATION_ERROR", "properties is required")
		return nil, false
	}
	out := make(map[string]string, len(body.Properties))
	for k, v := range body.Properties {
		if v != nil {
			out[k] = fmt.Sprint(v)
		}
	}
	return out, true
}

func (s *CRM) view(c *Company) Company {
	v := *c
	v.Properties = clone(c.Properties)
	v.Properties["hs_object_id"] = c.ID
	v.Properties["hs_lastmodifieddate"] = c.UpdatedAt.UTC().Format(time.RFC3339Nano)
	return v
}

// list pages companies in creation order, HubSpot style: after is the
// position to continue from, paging.next.after the next one (absent on
// the last page); updatedSince (RFC 3339) keeps those changed at or after.
func (s *CRM) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			crmError(w, http.StatusBadRequest, "VALIDATION_ERROR", "limit must be a number from 1 to 100")
			return
		}
		limit = n
	}
	var since time.Time
	if v := q.Get("updatedSince"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			crmError(w, http.StatusBadRequest, "VALIDATION_ERROR", "updatedSince must be an RFC 3339 time")
			return
		}
		since = t
	}
	start := 0
	if v := q.Get("after"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			crmError(w, http.StatusBadRequest, "VALIDATION_ERROR", "after is not a cursor this API returned")
			return
		}
		start = n
	}
	s.mu.Lock()
	var page []Company
	next := 0
	for i := start; i < len(s.companies); i++ {
		c := s.companies[i]
		if c.UpdatedAt.Before(since) {
			continue
		}
		if len(page) == limit {
			next = i
			break
		}
		page = append(page, s.view(c))
	}
	s.mu.Unlock()
	out := map[string]any{"results": page}
	if page == nil {
		out["results"] = []Company{}
	}
	if next > 0 {
		out["paging"] = map[string]any{"next": map[string]any{"after": strconv.Itoa(next)}}
	}
	writeJSON(w, http.StatusOK, out)
}

// DeleteCompany removes a company, as a CRM user archiving it would.
func (s *CRM) DeleteCompany(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[id]; !ok {
		return fmt.Errorf("company %s: %w", id, ErrNotFound)
	}
	delete(s.byID, id)
	for i, c := range s.companies {
		if c.ID == id {
			s.companies = append(s.companies[:i], s.companies[i+1:]...)
			break
		}
	}
	return nil
}

// archive deletes a company through the API: 204, or 404 when there is
// none, as HubSpot answers.
func (s *CRM) archive(w http.ResponseWriter, r *http.Request) {
	if err := s.DeleteCompany(r.PathValue("id")); err != nil {
		crmError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// MergeCompanies merges loser into survivor as HubSpot does: the loser is
// gone, and the survivor lists it in hs_merged_object_ids (';'-separated)
// and counts as changed.
func (s *CRM) MergeCompanies(survivor, loser string) (Company, error) {
	s.mu.Lock()
	c, ok := s.byID[survivor]
	s.mu.Unlock()
	if !ok {
		return Company{}, fmt.Errorf("company %s: %w", survivor, ErrNotFound)
	}
	if err := s.DeleteCompany(loser); err != nil {
		return Company{}, err
	}
	s.mu.Lock()
	merged := c.Properties["hs_merged_object_ids"]
	s.mu.Unlock()
	if merged != "" {
		merged += ";"
	}
	return s.UpdateCompany(survivor, map[string]string{"hs_merged_object_ids": merged + loser})
}

// UpdateCompany changes properties as a CRM user would (the company's
// modification time moves).
func (s *CRM) UpdateCompany(id string, props map[string]string) (Company, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byID[id]
	if !ok {
		return Company{}, fmt.Errorf("company %s: %w", id, ErrNotFound)
	}
	now := s.cfg.Now()
	if !now.Before(c.indexedAt) {
		c.indexed = clone(c.Properties)
	}
	for k, v := range props {
		c.Properties[k] = v
	}
	c.UpdatedAt, c.indexedAt = now, now.Add(s.cfg.SearchLag)
	return s.view(c), nil
}

func (s *CRM) create(w http.ResponseWriter, r *http.Request) {
	props, ok := readProperties(w, r)
	if !ok {
		return
	}
	now := s.cfg.Now()
	s.mu.Lock()
	c := &Company{ID: strconv.Itoa(1000 + s.created), Properties: props, CreatedAt: now, UpdatedAt: now, indexedAt: now.Add(s.cfg.SearchLag)}
	s.companies = append(s.companies, c)
	s.created++
	s.byID[c.ID] = c
	v := s.view(c)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, v)
}

func (s *CRM) get(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	c, ok := s.byID[r.PathValue("id")]
	var v Company
	if ok {
		v = s.view(c)
	}
	s.mu.Unlock()
	if !ok {
		crmError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found")
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *CRM) patch(w http.ResponseWriter, r *http.Request) {
	props, ok := readProperties(w, r)
	if !ok {
		return
	}
	now := s.cfg.Now()
	s.mu.Lock()
	c, found := s.byID[r.PathValue("id")]
	var v Company
	if found {
		if !now.Before(c.indexedAt) {
			c.indexed = clone(c.Properties) // what search shows until the new index time
		}
		for k, val := range props {
			c.Properties[k] = val
		}
		c.UpdatedAt, c.indexedAt = now, now.Add(s.cfg.SearchLag)
		v = s.view(c)
	}
	s.mu.Unlock()
	if !found {
		crmError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found")
		return
	}
	writeJSON(w, http.StatusOK, v)
}

type searchFilter struct {
	PropertyName string `json:"propertyName"`
	Operator     string `json:"operator"`
	Value        any    `json:"value"`
}

// search answers from the index: a company created less than SearchLag ago
// is not found yet, and one changed since shows its previous properties.
func (s *CRM) search(w http.ResponseWriter, r *http.Request) {
	var body struct {
		FilterGroups []struct {
			Filters []searchFilter `json:"filters"`
		} `json:"filterGroups"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&body); err != nil {
		crmError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON: "+err.Error())
		return
	}
	for _, g := range body.FilterGroups {
		for _, f := range g.Filters {
			if f.Operator != "EQ" {
				crmError(w, http.StatusBadRequest, "VALIDATION_ERROR", "unsupported operator "+f.Operator+": the simulator knows EQ")
				return
			}
		}
	}
	now := s.cfg.Now()
	s.mu.Lock()
	results := []Company{}
	for _, c := range s.companies {
		props := c.Properties
		if now.Before(c.indexedAt) {
			if c.indexed == nil {
				continue // not indexed yet
			}
			props = c.indexed
		}
		if matchesGroups(props, body.FilterGroups) {
			v := s.view(c)
			v.Properties = clone(props)
			results = append(results, v)
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"total": len(results), "results": results})
}

// matchesGroups: any group matches (OR) when all its filters do (AND).
func matchesGroups(props map[string]string, groups []struct {
	Filters []searchFilter `json:"filters"`
}) bool {
	for _, g := range groups {
		all := len(g.Filters) > 0
		for _, f := range g.Filters {
			if props[f.PropertyName] != fmt.Sprint(f.Value) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}
