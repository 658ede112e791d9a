package sim

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Subscription is a webhook registered through a simulator's API, as a
// partner-side registration (and its removal on uninstall) would make.
type Subscription struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// webhookAPI serves the partner side of webhook registration and token
// revocation:
//
//	POST   /webhooks       {url, secret, events} → 201 {id, url, events}
//	GET    /webhooks       → {webhooks: [...]}
//	DELETE /webhooks/{id}  → 204, 404 when unknown
//	POST   /oauth/revoke   RFC 7009: token=… (form); always 200
//
// Registered webhooks receive every change, like Subscribe (event
// filtering is not simulated); a deleted one receives nothing more.
type webhookAPI struct {
	b     *base
	hooks *hooks
	scope string

	mu      sync.Mutex
	subs    map[string]*registered
	revoked []string
}

type registered struct {
	Subscription
	sub *subscriber
}

func newWebhookAPI(b *base, hk *hooks, scope string) *webhookAPI {
	return &webhookAPI{b: b, hooks: hk, scope: scope, subs: map[string]*registered{}}
}

func (a *webhookAPI) routes(mux *http.ServeMux) {
	mux.Handle("POST /webhooks", a.b.authed(a.scope, a.create))
	mux.Handle("GET /webhooks", a.b.authed(a.scope, a.list))
	mux.Handle("DELETE /webhooks/{id}", a.b.authed(a.scope, a.delete))
	mux.HandleFunc("POST /oauth/revoke", a.revoke)
}

func (a *webhookAPI) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		URL    string   `json:"url"`
		Secret string   `json:"secret"`
		Events []string `json:"events"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	if in.URL == "" || in.Secret == "" {
		writeError(w, http.StatusUnprocessableEntity, "url and secret are required")
		return
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	reg := &registered{Subscription: Subscription{ID: "wh_" + hex.EncodeToString(id[:]), URL: in.URL, Events: in.Events,
		CreatedAt: a.b.cfg.Now().UTC()}, sub: a.hooks.add(in.URL, []byte(in.Secret))}
	a.mu.Lock()
	a.subs[reg.ID] = reg
	a.mu.Unlock()
	writeJSON(w, http.StatusCreated, reg.Subscription)
}

func (a *webhookAPI) list(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": a.subscriptions()})
}

func (a *webhookAPI) delete(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	reg, ok := a.subs[r.PathValue("id")]
	delete(a.subs, r.PathValue("id"))
	a.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "no such webhook")
		return
	}
	a.hooks.remove(reg.sub)
	w.WriteHeader(http.StatusNoContent)
}

// revoke is RFC 7009: the token is forgotten; an unknown token is no error.
func (a *webhookAPI) revoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "invalid form")
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		writeError(w, http.StatusBadRequest, "token is required")
		return
	}
	a.b.RevokeToken(token)
	a.mu.Lock()
	a.revoked = append(a.revoked, token)
	a.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (a *webhookAPI) subscriptions() []Subscription {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Subscription, 0, len(a.subs))
	for _, s := range a.subs {
		out = append(out, s.Subscription)
	}
	slices.SortFunc(out, func(x, y Subscription) int { return x.CreatedAt.Compare(y.CreatedAt) })
	return out
}

// add starts delivering to url and returns its subscriber.
func (hk *hooks) add(url string, secret []byte) *subscriber {
	s := &subscriber{url: url, secret: secret, wake: make(chan struct{}, 1)}
	hk.mu.Lock()
	hk.subs = append(hk.subs, s)
	hk.mu.Unlock()
	hk.b.wg.Add(1)
	go hk.run(s)
	return s
}

// remove stops giving s events and drops what it had not sent; its worker
// idles until the simulator stops.
func (hk *hooks) remove(s *subscriber) {
	hk.mu.Lock()
	hk.subs = slices.DeleteFunc(slices.Clone(hk.subs), func(x *subscriber) bool { return x == s })
	hk.mu.Unlock()
	s.mu.Lock()
	s.queue = nil
	s.mu.Unlock()
}

// Webhooks returns the webhooks registered through the helpdesk's API.
func (h *Helpdesk) Webhooks() []Subscription { return h.api.subscriptions() }

// RevokedTokens returns the tokens revoked through /oauth/revoke, in
// order.
func (h *Helpdesk) RevokedTokens() []string {
	h.api.mu.Lock()
	defer h.api.mu.Unlock()
	return slices.Clone(h.api.revoked)
}
