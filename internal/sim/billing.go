package sim

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/accordhq/accord/internal/webhook/signature"
)

// BillingCustomer is a Stripe-shaped customer.
type BillingCustomer struct {
	ID     string `json:"id"`
	Object string `json:"object"` // "customer"
	Name   string `json:"name"`
	Email  string `json:"email,omitempty"`
	// Metadata holds free-form keys (Stripe's metadata): the CRM's owner
	// and segment in the two-way pack.
	Metadata map[string]string `json:"metadata,omitempty"`
	Updated  int64             `json:"updated"` // Unix seconds: several changes share one
}

// BillingItem is one subscription item: a price times a quantity.
type BillingItem struct {
	ID       string `json:"id"`
	Quantity int64  `json:"quantity"`
	Price    struct {
		UnitAmount int64 `json:"unit_amount"` // cents
		Recurring  struct {
			Interval string `json:"interval"` // month | year
		} `json:"recurring"`
	} `json:"price"`
}

// NewBillingItem returns an item of quantity × unitAmount cents per interval.
func NewBillingItem(unitAmount, quantity int64, interval string) BillingItem {
	var it BillingItem
	it.Quantity, it.Price.UnitAmount, it.Price.Recurring.Interval = quantity, unitAmount, interval
	return it
}

// BillingSubscription is a Stripe-shaped subscription with nested items.
type BillingSubscription struct {
	ID       string `json:"id"`
	Object   string `json:"object"` // "subscription"
	Customer string `json:"customer"`
	// Status is active or canceled (Stripe's subscription status).
	Status string `json:"status"`
	Items  struct {
		Object string        `json:"object"` // "list"
		Data   []BillingItem `json:"data"`
	} `json:"items"`
	Updated int64 `json:"updated"`
}

// Billing scopes; the configured token holds both.
const (
	ScopeBillingRead  = "billing.read"
	ScopeBillingWrite = "billing.write"
)

// Billing simulates a Stripe-shaped billing service: customers and
// subscriptions, Stripe-signed webhooks (Stripe-Signature: t=…,v1=…) sent
// in change order to every subscriber, and a read API.
//
//	GET  /v1/customers?limit=&starting_after=&updated[gte]=   {"object":"list","data":[…],"has_more":…}
//	GET  /v1/customers/{id}
//	GET  /v1/subscriptions/{id}
//	POST /v1/customers              {"name","email"}             (201)
//	POST /v1/customers/{id}         {"name"}
//	POST /v1/subscriptions          {"customer","items":[…]}     (201)
//	POST /v1/subscriptions/{id}     {"items":[…]}
//
// Writes take JSON (Stripe takes forms): items are
// {"quantity":2,"price":{"unit_amount":1000,"recurring":{"interval":"month"}}}.
// Event bodies: {"id":"evt_…","type":"customer.updated","created":<unix s>,
// "data":{"object":{…}}}; types customer.created, customer.updated,
// customer.subscription.created, customer.subscription.updated.
type Billing struct {
	*base
	scheme signature.Scheme

	mu            sync.Mutex
	customers     map[string]*BillingCustomer
	subscriptions map[string]*BillingSubscription
	seq           int
	subs          []*billingSubscriber
	sent          int // events every subscriber has answered (2xx or given up)
	sentCh        chan struct{}
}

type billingSubscriber struct {
	url    string
	secret []byte
	queue  chan []byte
}

// NewBilling returns an empty billing service.
func NewBilling(cfg *Config) *Billing {
	c := cfg.withDefaults()
	sch, err := signature.New("stripe", signature.Options{})
	if err != nil {
		panic(fmt.Sprintf("sim: stripe scheme: %v", err)) // registered in init: cannot happen
	}
	s := &Billing{base: newBase(c, []string{ScopeBillingRead, ScopeBillingWrite}, false), scheme: sch,
		customers: map[string]*BillingCustomer{}, subscriptions: map[string]*BillingSubscription{}, sentCh: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle("GET /v1/customers", s.authed(ScopeBillingRead, s.listCustomers))
	mux.Handle("GET /v1/customers/{id}", s.authed(ScopeBillingRead, s.getCustomer))
	mux.Handle("GET /v1/subscriptions/{id}", s.authed(ScopeBillingRead, s.getSubscription))
	mux.Handle("POST /v1/customers", s.authed(ScopeBillingWrite, s.postCustomer))
	mux.Handle("POST /v1/customers/{id}", s.authed(ScopeBillingWrite, s.postCustomerUpdate))
	mux.Handle("POST /v1/subscriptions", s.authed(ScopeBillingWrite, s.postSubscription))
	mux.Handle("POST /v1/subscriptions/{id}", s.authed(ScopeBillingWrite, s.postSubscriptionUpdate))
	s.setRoutes(mux)
	return s
}

// Subscribe sends every later event to url, signed with secret.
func (s *Billing) Subscribe(url, secret string) {
	sub := &billingSubscriber{url: url, secret: []byte(secret), queue: make(chan []byte, 100_000)}
	s.mu.Lock()
	s.subs = append(s.subs, sub)
	s.mu.Unlock()
	s.wg.Add(1)
	go s.run(sub)
}

// CreateCustomer creates a customer and emits customer.created.
func (s *Billing) CreateCustomer(name, email string) BillingCustomer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	c := &BillingCustomer{ID: fmt.Sprintf("cus_%04d", s.seq), Object: "customer", Name: name, Email: email, Updated: s.cfg.Now().Unix()}
	s.customers[c.ID] = c
	s.emitLocked("customer.created", *c)
	return *c
}

// DeleteCustomer deletes a customer and emits customer.deleted carrying
// the customer as it was (its updated time advanced), as Stripe does; the
// API then answers 404 for it and lists it no more.
func (s *Billing) DeleteCustomer(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.customers[id]
	if !ok {
		return fmt.Errorf("customer %s: %w", id, ErrNotFound)
	}
	c.Updated = s.cfg.Now().Unix()
	delete(s.customers, id)
	s.emitLocked("customer.deleted", s.copyLocked(c))
	return nil
}

// RenameCustomer changes a customer's name and emits customer.updated.
func (s *Billing) RenameCustomer(id, name string) (BillingCustomer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.customers[id]
	if !ok {
		return BillingCustomer{}, fmt.Errorf("customer %s: %w", id, ErrNotFound)
	}
	c.Name, c.Updated = name, s.cfg.Now().Unix()
	s.emitLocked("customer.updated", *c)
	return s.copyLocked(c), nil
}

// UpdateCustomer sets the name (when not empty) and merges metadata keys
// (an empty value deletes one, as Stripe does), and emits
// customer.updated.
func (s *Billing) UpdateCustomer(id, name string, metadata map[string]string) (BillingCustomer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.customers[id]
	if !ok {
		return BillingCustomer{}, fmt.Errorf("customer %s: %w", id, ErrNotFound)
	}
	if name != "" {
		c.Name = name
	}
	for k, v := range metadata {
		if c.Metadata == nil {
			c.Metadata = map[string]string{}
		}
		if v == "" {
			delete(c.Metadata, k)
		} else {
			c.Metadata[k] = v
		}
	}
	c.Updated = s.cfg.Now().Unix()
	s.emitLocked("customer.updated", s.copyLocked(c))
	return s.copyLocked(c), nil
}

// copyLocked is a customer the caller may keep: its metadata is a copy.
func (s *Billing) copyLocked(c *BillingCustomer) BillingCustomer {
	v := *c
	if c.Metadata != nil {
		v.Metadata = make(map[string]string, len(c.Metadata))
		for k, val := range c.Metadata {
			v.Metadata[k] = val
		}
	}
	return v
}

// Customer returns one customer.
func (s *Billing) Customer(id string) (BillingCustomer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.customers[id]
	if !ok {
		return BillingCustomer{}, fmt.Errorf("customer %s: %w", id, ErrNotFound)
	}
	return s.copyLocked(c), nil
}

// CreateSubscription creates a subscription of customer with items and
// emits customer.subscription.created.
func (s *Billing) CreateSubscription(customer string, items ...BillingItem) (BillingSubscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.customers[customer]; !ok {
		return BillingSubscription{}, fmt.Errorf("customer %s: %w", customer, ErrNotFound)
	}
	s.seq++
	sub := &BillingSubscription{ID: fmt.Sprintf("sub_%04d", s.seq), Object: "subscription", Customer: customer, Status: "active", Updated: s.cfg.Now().Unix()}
	sub.Items.Object = "list"
	s.setItemsLocked(sub, items)
	s.subscriptions[sub.ID] = sub
	s.emitLocked("customer.subscription.created", *sub)
	return *sub, nil
}

// SetItems replaces a subscription's items and emits
// customer.subscription.updated.
func (s *Billing) SetItems(id string, items ...BillingItem) (BillingSubscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, ok := s.subscriptions[id]
	if !ok {
		return BillingSubscription{}, fmt.Errorf("subscription %s: %w", id, ErrNotFound)
	}
	s.setItemsLocked(sub, items)
	sub.Updated = s.cfg.Now().Unix()
	s.emitLocked("customer.subscription.updated", *sub)
	return *sub, nil
}

// SetStatus moves a subscription to status (active or canceled) and emits
// customer.subscription.deleted for a cancellation, as Stripe does, and
// customer.subscription.updated otherwise.
func (s *Billing) SetStatus(id, status string) (BillingSubscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, ok := s.subscriptions[id]
	if !ok {
		return BillingSubscription{}, fmt.Errorf("subscription %s: %w", id, ErrNotFound)
	}
	sub.Status, sub.Updated = status, s.cfg.Now().Unix()
	event := "customer.subscription.updated"
	if status == "canceled" {
		event = "customer.subscription.deleted"
	}
	s.emitLocked(event, *sub)
	return *sub, nil
}

func (s *Billing) setItemsLocked(sub *BillingSubscription, items []BillingItem) {
	sub.Items.Data = make([]BillingItem, len(items))
	for i, it := range items {
		s.seq++
		it.ID = fmt.Sprintf("si_%04d", s.seq)
		sub.Items.Data[i] = it
	}
}

// MRR is a customer's monthly recurring revenue in currency units, over
// every item of every subscription not canceled (yearly prices count a
// twelfth).
func (s *Billing) MRR(customer string) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cents float64
	for _, sub := range s.subscriptions {
		if sub.Customer != customer || sub.Status == "canceled" {
			continue
		}
		for _, it := range sub.Items.Data {
			v := float64(it.Price.UnitAmount * it.Quantity)
			if it.Price.Recurring.Interval == "year" {
				v /= 12
			}
			cents += v
		}
	}
	return cents / 100
}

// emitLocked queues the event for every subscriber, in change order.
func (s *Billing) emitLocked(typ string, object any) {
	s.seq++
	body, _ := json.Marshal(map[string]any{ // cannot fail: plain values
		"id": fmt.Sprintf("evt_%06d", s.seq), "object": "event", "type": typ,
		"created": s.cfg.Now().Unix(), "data": map[string]any{"object": object},
	})
	for _, sub := range s.subs {
		sub.queue <- body
	}
}

// Emit sends an event of type typ carrying object exactly as given: a
// partner's late retry of an old delivery, for tests of ordering.
func (s *Billing) Emit(typ string, object any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.emitLocked(typ, object)
}

// run sends one subscriber's events one at a time, in order, retrying a
// failed one with backoff (Config.DeliveryAttempts, DeliveryBackoff).
func (s *Billing) run(sub *billingSubscriber) {
	defer s.wg.Done()
	for {
		select {
		case <-s.bg.Done():
			return
		case body := <-sub.queue:
			backoff := s.cfg.DeliveryBackoff
			for attempt := 1; attempt <= s.cfg.DeliveryAttempts; attempt++ {
				if attempt > 1 {
					if s.cfg.Sleep(s.bg, backoff) != nil {
						return
					}
					backoff *= 2
				}
				if status, err := s.post(s.bg, sub, body); err == nil && status/100 == 2 {
					break
				} else if attempt == s.cfg.DeliveryAttempts {
					s.cfg.Logger.Warn("sim: billing webhook delivery failed", "url", sub.url, "status", status, "error", err)
				}
			}
			s.mu.Lock()
			s.sent++
			close(s.sentCh)
			s.sentCh = make(chan struct{})
			s.mu.Unlock()
		}
	}
}

func (s *Billing) post(ctx context.Context, sub *billingSubscriber, body []byte) (int, error) {
	h, err := s.scheme.Sign(body, sub.secret, s.cfg.Now(), "")
	if err != nil {
		return 0, fmt.Errorf("signing: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// WaitSent blocks until n events have been sent to every subscriber (each
// answered or given up on), or ctx ends.
func (s *Billing) WaitSent(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		done, ch := s.sent >= n*max(1, len(s.subs)), s.sentCh
		s.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sim: waiting for %d billing events: %w", n, ctx.Err())
		case <-ch:
		}
	}
}

// getCustomer answers a customer; with expand[]=subscriptions (Stripe's
// expansion) it also carries its subscriptions as a list object.
func (s *Billing) getCustomer(w http.ResponseWriter, r *http.Request) {
	c, err := s.Customer(r.PathValue("id"))
	if !writeOutcome(w, err) {
		return
	}
	if !slices.Contains(r.URL.Query()["expand[]"], "subscriptions") {
		writeJSON(w, http.StatusOK, c)
		return
	}
	type expanded struct {
		BillingCustomer
		Subscriptions struct {
			Object string                `json:"object"`
			Data   []BillingSubscription `json:"data"`
		} `json:"subscriptions"`
	}
	out := expanded{BillingCustomer: c}
	out.Subscriptions.Object = "list"
	out.Subscriptions.Data = s.SubscriptionsOf(c.ID)
	writeJSON(w, http.StatusOK, out)
}

// SubscriptionsOf returns a customer's subscriptions, oldest first.
func (s *Billing) SubscriptionsOf(customer string) []BillingSubscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []BillingSubscription{}
	for _, sub := range s.subscriptions {
		if sub.Customer == customer {
			out = append(out, *sub)
		}
	}
	slices.SortFunc(out, func(a, b BillingSubscription) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// listCustomers pages customers in id order, Stripe style: starting_after
// is the last id of the previous page, has_more says another page
// follows; updated[gte] keeps those changed at or after a Unix second.
func (s *Billing) listCustomers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusBadRequest, "limit must be a number from 1 to 100")
			return
		}
		limit = n
	}
	var since int64
	if v := q.Get("updated[gte]"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "updated[gte] must be Unix seconds")
			return
		}
		since = n
	}
	after := q.Get("starting_after")
	s.mu.Lock()
	all := make([]BillingCustomer, 0, len(s.customers))
	for _, c := range s.customers {
		if c.Updated >= since {
			all = append(all, s.copyLocked(c))
		}
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b BillingCustomer) int {
		return cmp.Or(cmp.Compare(len(a.ID), len(b.ID)), cmp.Compare(a.ID, b.ID))
	})
	start := 0
	if after != "" {
		start = len(all)
		for i, c := range all {
			if len(c.ID) > len(after) || (len(c.ID) == len(after) && c.ID > after) {
				start = i
				break
			}
		}
	}
	end := min(start+limit, len(all))
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": all[start:end], "has_more": end < len(all)})
}

func (s *Billing) getSubscription(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	sub, ok := s.subscriptions[r.PathValue("id")]
	var v BillingSubscription
	if ok {
		v = *sub
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "No such subscription")
		return
	}
	writeJSON(w, http.StatusOK, v)
}

type billingWrite struct {
	Name     string            `json:"name"`
	Metadata map[string]string `json:"metadata"`
	Email    string            `json:"email"`
	Customer string            `json:"customer"`
	Items    []BillingItem     `json:"items"`
}

func (s *Billing) postCustomer(w http.ResponseWriter, r *http.Request) {
	var in billingWrite
	if decodeJSON(w, r, &in) {
		writeJSON(w, http.StatusCreated, s.CreateCustomer(in.Name, in.Email))
	}
}

func (s *Billing) postCustomerUpdate(w http.ResponseWriter, r *http.Request) {
	var in billingWrite
	if !decodeJSON(w, r, &in) {
		return
	}
	c, err := s.UpdateCustomer(r.PathValue("id"), in.Name, in.Metadata)
	if writeOutcome(w, err) {
		writeJSON(w, http.StatusOK, c)
	}
}

func (s *Billing) postSubscription(w http.ResponseWriter, r *http.Request) {
	var in billingWrite
	if !decodeJSON(w, r, &in) {
		return
	}
	sub, err := s.CreateSubscription(in.Customer, in.Items...)
	if writeOutcome(w, err) {
		writeJSON(w, http.StatusCreated, sub)
	}
}

func (s *Billing) postSubscriptionUpdate(w http.ResponseWriter, r *http.Request) {
	var in billingWrite
	if !decodeJSON(w, r, &in) {
		return
	}
	sub, err := s.SetItems(r.PathValue("id"), in.Items...)
	if writeOutcome(w, err) {
		writeJSON(w, http.StatusOK, sub)
	}
}
