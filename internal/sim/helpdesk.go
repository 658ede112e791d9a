package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Ticket is a helpdesk ticket as the API returns it.
type Ticket struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Priority    string    `json:"priority"` // low | med | high
	Status      string    `json:"status"`   // open | escalated | closed
	CustomerID  string    `json:"customer_id"`
	URL         string    `json:"url"`
	Version     int       `json:"version"` // 1 on create, +1 on every change
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// TicketPatch is a partial update: nil fields are left alone. It is also the
// body of POST and PATCH /tickets.
type TicketPatch struct {
	Title       *string `json:"title,omitempty"`
	Description *string `json:"description,omitempty"`
	Priority    *string `json:"priority,omitempty"`
	Status      *string `json:"status,omitempty"`
	CustomerID  *string `json:"customer_id,omitempty"`
}

// Helpdesk scopes; the configured token holds both.
const (
	ScopeTicketsRead  = "tickets.read"
	ScopeTicketsWrite = "tickets.write"
)

var (
	ticketPriorities = []string{"low", "med", "high"}
	ticketStatuses   = []string{"open", "escalated", "closed"}
)

// ValidationError is a rejected create or update; the HTTP API answers it
// with 422 and its message.
type ValidationError struct{ Message string }

func (e *ValidationError) Error() string { return "sim: " + e.Message }

// Helpdesk simulates a helpdesk: tickets over a REST API, and a signed
// webhook to every subscriber on each change.
//
//	GET   /tickets?cursor=&limit=  → {"tickets":[…],"next_cursor":""}
//	GET   /tickets/{id}
//	POST  /tickets                 (201)
//	PATCH /tickets/{id}
type Helpdesk struct {
	*base

	mu      sync.Mutex
	tickets []*Ticket // creation order; the list cursor is an index into it
	byID    map[string]*Ticket
	events  int
	hooks   *hooks
	api     *webhookAPI
}

// NewHelpdesk returns a helpdesk with no tickets and no subscribers.
func NewHelpdesk(cfg *Config) *Helpdesk {
	c := cfg.withDefaults()
	h := &Helpdesk{base: newBase(c, []string{ScopeTicketsRead, ScopeTicketsWrite}, false), byID: map[string]*Ticket{}}
	h.hooks = newHooks(h.base)
	mux := http.NewServeMux()
	mux.Handle("GET /tickets", h.authed(ScopeTicketsRead, h.list))
	mux.Handle("GET /tickets/{id}", h.authed(ScopeTicketsRead, h.get))
	mux.Handle("POST /tickets", h.authed(ScopeTicketsWrite, h.create))
	mux.Handle("PATCH /tickets/{id}", h.authed(ScopeTicketsWrite, h.patch))
	h.api = newWebhookAPI(h.base, h.hooks, ScopeTicketsRead)
	h.api.routes(mux)
	h.setRoutes(mux)
	return h
}

// Subscribe sends every later change to url, signed with the
// standard-webhooks scheme and secret (raw, or "whsec_<base64>").
func (h *Helpdesk) Subscribe(url, secret string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hooks.add(url, []byte(secret))
}

// CreateTicket creates a ticket as if through the API; ID, URL, Version and
// timestamps are assigned, Priority defaults to "med" and Status to "open".
func (h *Helpdesk) CreateTicket(t Ticket) (Ticket, error) {
	return h.createTicket(t, h.baseURL(nil))
}

func (h *Helpdesk) createTicket(t Ticket, baseURL string) (Ticket, error) {
	if t.Priority == "" {
		t.Priority = "med"
	}
	if t.Status == "" {
		t.Status = "open"
	}
	if err := validateTicket(t); err != nil {
		return Ticket{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.cfg.Now().UTC()
	t.ID = "T-" + strconv.Itoa(len(h.tickets)+1)
	t.URL = baseURL + "/tickets/" + t.ID
	t.Version = 1
	t.CreatedAt, t.UpdatedAt = now, now
	stored := t
	h.tickets = append(h.tickets, &stored)
	h.byID[t.ID] = &stored
	h.emit("ticket.created", t)
	return t, nil
}

func validateTicket(t Ticket) error {
	switch {
	case strings.TrimSpace(t.Title) == "":
		return &ValidationError{"title is required"}
	case !slices.Contains(ticketPriorities, t.Priority):
		return &ValidationError{fmt.Sprintf("priority must be one of %s", strings.Join(ticketPriorities, ", "))}
	case !slices.Contains(ticketStatuses, t.Status):
		return &ValidationError{fmt.Sprintf("status must be one of %s", strings.Join(ticketStatuses, ", "))}
	}
	return nil
}

// UpdateTicket applies p. A patch that changes nothing leaves the version
// alone and sends no webhook, as a real partner would.
func (h *Helpdesk) UpdateTicket(id string, p TicketPatch) (Ticket, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cur, ok := h.byID[id]
	if !ok {
		return Ticket{}, fmt.Errorf("ticket %s: %w", id, ErrNotFound)
	}
	next := *cur
	for _, f := range []struct {
		dst *string
		src *string
	}{{&next.Title, p.Title}, {&next.Description, p.Description}, {&next.Priority, p.Priority}, {&next.Status, p.Status}, {&next.CustomerID, p.CustomerID}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if err := validateTicket(next); err != nil {
		return Ticket{}, err
	}
	if next == *cur {
		return next, nil
	}
	next.Version++
	next.UpdatedAt = h.cfg.Now().UTC()
	*cur = next
	h.emit("ticket.updated", next)
	return next, nil
}

// Escalate sets the ticket's status to escalated.
func (h *Helpdesk) Escalate(id string) (Ticket, error) {
	s := "escalated"
	return h.UpdateTicket(id, TicketPatch{Status: &s})
}

// Ticket returns one ticket.
func (h *Helpdesk) Ticket(id string) (Ticket, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.byID[id]
	if !ok {
		return Ticket{}, fmt.Errorf("ticket %s: %w", id, ErrNotFound)
	}
	return *t, nil
}

// Tickets returns every ticket in creation order.
func (h *Helpdesk) Tickets() []Ticket {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Ticket, len(h.tickets))
	for i, t := range h.tickets {
		out[i] = *t
	}
	return out
}

// emit queues a webhook for every subscriber; h.mu is held, so events are
// numbered and queued in the order the changes happened.
func (h *Helpdesk) emit(typ string, t Ticket) {
	h.events++
	h.hooks.enqueue(event{
		ID: "evt_" + strconv.Itoa(h.events), Type: typ, Timestamp: t.UpdatedAt, Data: t,
	})
}

const (
	defaultPageSize = 50
	maxPageSize     = 100
)

func (h *Helpdesk) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := defaultPageSize
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "limit must be a positive integer")
			return
		}
		limit = min(n, maxPageSize)
	}
	start := 0
	if s := q.Get("cursor"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "invalid cursor")
			return
		}
		start = n
	}
	h.mu.Lock()
	page := []Ticket{}
	for i := start; i < len(h.tickets) && len(page) < limit; i++ {
		page = append(page, *h.tickets[i])
	}
	next := ""
	if end := start + len(page); end < len(h.tickets) {
		next = strconv.Itoa(end)
	}
	h.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"tickets": page, "next_cursor": next})
}

func (h *Helpdesk) get(w http.ResponseWriter, r *http.Request) {
	t, err := h.Ticket(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusNotFound, "ticket not found")
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (h *Helpdesk) create(w http.ResponseWriter, r *http.Request) {
	var p TicketPatch
	if !decodeJSON(w, r, &p) {
		return
	}
	t, err := h.createTicket(Ticket{
		Title: deref(p.Title), Description: deref(p.Description), Priority: deref(p.Priority),
		Status: deref(p.Status), CustomerID: deref(p.CustomerID),
	}, h.baseURL(r))
	if writeOutcome(w, err) {
		writeJSON(w, http.StatusCreated, t)
	}
}

func (h *Helpdesk) patch(w http.ResponseWriter, r *http.Request) {
	var p TicketPatch
	if !decodeJSON(w, r, &p) {
		return
	}
	t, err := h.UpdateTicket(r.PathValue("id"), p)
	if writeOutcome(w, err) {
		writeJSON(w, http.StatusOK, t)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// event is the webhook body.
type event struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      Ticket    `json:"data"`
	// Padding is only set by the oversized fault.
	Padding string `json:"padding,omitempty"`
}

func (e event) body() []byte {
	b, _ := json.Marshal(e) // cannot fail: plain strings, ints and times
	return b
}
