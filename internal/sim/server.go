package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ErrNotFound is returned by the Go accessors for an unknown id.
var ErrNotFound = errors.New("sim: not found")

// base is what every simulator shares: auth with per-token scopes, fault
// injection, an optional rate limit, the listener lifecycle and a context for
// background work that Stop cancels.
type base struct {
	*Faults
	cfg     Config
	limiter *rate.Limiter // nil: unlimited

	mu     sync.Mutex
	tokens map[string]map[string]bool
	srv    *http.Server
	url    string
	// handler is the simulator's API behind its middleware, with
	// /_sim/faults; set once by setRoutes.
	handler http.Handler

	bg     context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newBase(cfg Config, scopes []string, limited bool) *base {
	b := &base{
		Faults: newFaults(cfg.Seed, cfg.Sleep),
		cfg:    cfg,
		tokens: map[string]map[string]bool{cfg.Token: {}},
	}
	for _, s := range scopes {
		b.tokens[cfg.Token][s] = true
	}
	if limited && cfg.RateLimit > 0 {
		b.limiter = rate.NewLimiter(rate.Limit(cfg.RateLimit), cfg.RateBurst)
	}
	b.bg, b.cancel = context.WithCancel(context.Background())
	return b
}

// GrantScope grants scope to token, creating the token if it is new.
func (b *base) GrantScope(token, scope string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens[token] == nil {
		b.tokens[token] = map[string]bool{}
	}
	b.tokens[token][scope] = true
}

// RevokeScope removes scope from token; its requests needing it get 403.
func (b *base) RevokeScope(token, scope string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.tokens[token], scope)
}

// RevokeToken makes token unknown: its requests get 401, as after a partner
// revoked an OAuth grant.
func (b *base) RevokeToken(token string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.tokens, token)
}

// URL is the base URL Start listens on, or "" before Start.
func (b *base) URL() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.url
}

func (b *base) baseURL(r *http.Request) string {
	if b.cfg.BaseURL != "" {
		return strings.TrimSuffix(b.cfg.BaseURL, "/")
	}
	if u := b.URL(); u != "" {
		return u
	}
	if r != nil {
		return "http://" + r.Host
	}
	return ""
}

// root builds the full handler: the admin endpoint bypasses faults and auth,
// everything else passes the fault injector first so an injected 401 or reset
// hits even a perfectly authenticated request.
// setRoutes puts the simulator's API behind the shared middleware, next to
// /_sim/faults.
func (b *base) setRoutes(routes http.Handler) { b.handler = b.root(routes) }

// Handler serves the simulator's API and /_sim/faults.
func (b *base) Handler() http.Handler { return b.handler }

func (b *base) root(routes http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/_sim/faults", b.adminHandler())
	mux.Handle("/", b.middleware(routes))
	return mux
}

// authed wraps h with bearer auth, the scope check and the rate limit, in
// the order a client would debug them: who are you, may you, not so fast.
func (b *base) authed(scope string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		b.mu.Lock()
		scopes, known := b.tokens[token]
		allowed := scopes[scope]
		b.mu.Unlock()
		if !ok || !known {
			writeError(w, http.StatusUnauthorized, "invalid token")
			return
		}
		if !allowed {
			writeError(w, http.StatusForbidden, "missing scope "+scope)
			return
		}
		if b.limiter != nil {
			now := b.cfg.Now()
			res := b.limiter.ReserveN(now, 1)
			if delay := res.DelayFrom(now); delay > 0 {
				res.CancelAt(now)
				w.Header().Set("Retry-After", retryAfter(delay))
				writeError(w, http.StatusTooManyRequests, "rate limit exceeded")
				return
			}
		}
		h(w, r)
	})
}

// retryAfter renders d as whole seconds, rounded up so a client that obeys
// it is never early.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// Start serves the simulator on addr, which must be on 127.0.0.1 (":0"
// style ports pick a free one; "" means "127.0.0.1:0"), and returns the base
// URL.
func (b *base) Start(ctx context.Context, addr string) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("sim: listen address: %w", err)
	}
	if host != "127.0.0.1" {
		return "", fmt.Errorf("sim: listen address %q: simulators listen only on 127.0.0.1", addr)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("sim: listen: %w", err)
	}
	srv := &http.Server{
		Handler:           b.handler,
		ReadHeaderTimeout: 10 * time.Second,
		// Request contexts derive from bg so Stop also ends slow faults.
		BaseContext: func(net.Listener) context.Context { return b.bg },
	}
	b.mu.Lock()
	if b.srv != nil {
		b.mu.Unlock()
		_ = ln.Close()
		return "", errors.New("sim: already started")
	}
	b.srv = srv
	b.url = "http://" + ln.Addr().String()
	url := b.url
	b.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return url, nil
}

// Stop closes the listener (if started) and stops background work such as
// webhook deliveries. It is safe to call more than once.
func (b *base) Stop() {
	b.cancel()
	b.mu.Lock()
	srv := b.srv
	b.mu.Unlock()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
	}
	b.wg.Wait()
}

type errorBody struct {
	Error struct {
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	var e errorBody
	e.Error.Message = msg
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// maxBody bounds request bodies: simulators face only tests and the demo,
// but a runaway client should get a 413-ish error, not eat the memory.
const maxBody = 1 << 20

func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body")
		return false
	}
	return true
}

// writeOutcome answers a failed Go-level operation and reports whether the
// caller should write the success response.
func writeOutcome(w http.ResponseWriter, err error) bool {
	if err == nil {
		return true
	}
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		writeError(w, http.StatusUnprocessableEntity, ve.Message)
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "not found")
	default:
		writeError(w, http.StatusInternalServerError, "internal error")
	}
	return false
}
