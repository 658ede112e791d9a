package sim

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// FaultKind names a fault. The values are also the JSON spelling used by
// POST /_sim/faults.
type FaultKind string

const (
	// FaultRateLimit answers 429 with Retry-After.
	FaultRateLimit FaultKind = "429"
	// FaultServerError answers Fault.Status (default 503).
	FaultServerError FaultKind = "5xx"
	// FaultSlow waits Fault.Delay, then serves the request normally.
	FaultSlow FaultKind = "slow"
	// FaultReset hijacks the connection and closes it with a TCP reset: the
	// client sees "connection reset" or EOF and no response at all.
	FaultReset FaultKind = "reset"
	// FaultUnauthorized answers 401 as if the token had been revoked.
	FaultUnauthorized FaultKind = "401"
	// FaultForbidden answers 403 as if a scope had been removed.
	FaultForbidden FaultKind = "403"
	// FaultOversized answers 200 with a Fault.Size byte JSON body, or with
	// Webhook set pads the next helpdesk webhook to that size.
	FaultOversized FaultKind = "oversized"
	// FaultDuplicate delivers the next helpdesk webhook twice (same id).
	FaultDuplicate FaultKind = "duplicate"
	// FaultReorder holds the next helpdesk webhook back and delivers it
	// right after the one that follows it.
	FaultReorder FaultKind = "reorder"
	// FaultUnprocessable answers 422 with Fault.Message, as a partner
	// rejecting a field.
	FaultUnprocessable FaultKind = "422"
	// FaultHangAfter serves the request normally (a create commits), then
	// holds the response back for Fault.Delay or until the client goes
	// away: a partner that did the work but whose answer never arrived,
	// the window a crash test kills the client in.
	FaultHangAfter FaultKind = "hang_after"
	// FaultApplyLate holds the request for Fault.Delay before applying it,
	// whether or not the client is still waiting, then applies it and
	// answers if anyone listens: a partner under load that answers after
	// the client's timeout but still does the work (a late PATCH lands
	// after newer ones; a late create leaves an object the client never
	// heard of).
	FaultApplyLate FaultKind = "apply_late"
)

// Defaults for the parameters a Fault leaves at zero.
const (
	DefaultFaultRetryAfter = time.Second
	DefaultFaultStatus     = http.StatusServiceUnavailable
	DefaultFaultDelay      = time.Second
	DefaultFaultSize       = 8 << 20
	DefaultFaultMessage    = "title is required"
)

var knownKinds = map[FaultKind]bool{
	FaultRateLimit: true, FaultServerError: true, FaultSlow: true, FaultReset: true,
	FaultUnauthorized: true, FaultForbidden: true, FaultOversized: true,
	FaultDuplicate: true, FaultReorder: true, FaultUnprocessable: true, FaultHangAfter: true, FaultApplyLate: true,
}

// Fault is one injected failure, e.g. Fault{Kind: "429", RetryAfter:
// 2*time.Second, Count: 3}: the next three requests get 429.
type Fault struct {
	Kind FaultKind
	// Count is how many consecutive requests (or webhooks) it hits. Default 1.
	Count int
	// RetryAfter for 429. Default DefaultFaultRetryAfter.
	RetryAfter time.Duration
	// Status for 5xx. Default DefaultFaultStatus.
	Status int
	// Delay for slow. Default DefaultFaultDelay.
	Delay time.Duration
	// Size in bytes for oversized. Default DefaultFaultSize.
	Size int
	// Message for 422. Default DefaultFaultMessage.
	Message string
	// Method limits a request fault to requests with this HTTP method
	// ("POST": hit the create, let the lookup before it through). Requests
	// with other methods pass while it waits at the head of the queue.
	// Default: any method.
	Method string
	// Webhook targets the helpdesk's outgoing webhooks rather than incoming
	// requests. Implied by duplicate and reorder.
	Webhook bool
	// Token limits a request fault to requests presenting this bearer
	// token: with one token per tenant, one tenant's partner fails while
	// the others' is healthy. Other requests pass it, as with Method.
	// Default: any token.
	Token string
	// Persist keeps the fault in force for every matching request until
	// ClearFaults, instead of for Count requests: a partner that answers
	// 429 to everything for as long as a test or a bench needs. Persistent
	// faults are checked before the queue, in the order injected, and do
	// not block it: a request they do not match meets the queue as usual.
	Persist bool
}

func (f Fault) withDefaults() (Fault, error) {
	if !knownKinds[f.Kind] {
		return f, fmt.Errorf("sim: unknown fault kind %q", f.Kind)
	}
	if f.Count <= 0 {
		f.Count = 1
	}
	// Only the parameter the kind uses gets a default, so the pending list
	// shows what will actually happen.
	switch f.Kind {
	case FaultRateLimit:
		if f.RetryAfter <= 0 {
			f.RetryAfter = DefaultFaultRetryAfter
		}
	case FaultServerError:
		if f.Status == 0 {
			f.Status = DefaultFaultStatus
		}
		if f.Status < 500 || f.Status > 599 {
			return f, fmt.Errorf("sim: fault 5xx: status %d is not 5xx", f.Status)
		}
	case FaultSlow, FaultHangAfter, FaultApplyLate:
		if f.Delay <= 0 {
			f.Delay = DefaultFaultDelay
		}
	case FaultUnprocessable:
		if f.Message == "" {
			f.Message = DefaultFaultMessage
		}
	case FaultOversized:
		if f.Size <= 0 {
			f.Size = DefaultFaultSize
		}
	}
	if f.Kind == FaultDuplicate || f.Kind == FaultReorder {
		f.Webhook = true
	}
	if f.Webhook && f.Kind != FaultDuplicate && f.Kind != FaultReorder && f.Kind != FaultOversized {
		return f, fmt.Errorf("sim: fault %q cannot target webhooks", f.Kind)
	}
	if f.Webhook && (f.Method != "" || f.Token != "" || f.Persist) {
		return f, fmt.Errorf("sim: fault %q: method, token and persist apply to requests, not webhooks", f.Kind)
	}
	f.Method = strings.ToUpper(f.Method)
	return f, nil
}

// Faults is the fault injector every simulator embeds. Queued faults are
// consumed first, in order; when the queue is empty the random mode (if on)
// picks a fault with probability rate.
type Faults struct {
	sleep func(context.Context, time.Duration) error

	mu         sync.Mutex
	persistent []Fault // in force until cleared, for incoming requests
	requests   []Fault // queued, for incoming requests
	webhooks   []Fault // queued, for the helpdesk's deliveries
	rate       float64
	kinds      []FaultKind
	rng        *rand.Rand
	applied    map[FaultKind]int
}

func newFaults(seed uint64, sleep func(context.Context, time.Duration) error) *Faults {
	return &Faults{
		sleep:   sleep,
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		applied: map[FaultKind]int{},
	}
}

// Inject queues faults behind any already queued. It rejects unknown kinds
// and nonsensical parameters without queueing anything.
func (f *Faults) Inject(faults ...Fault) error {
	checked := make([]Fault, 0, len(faults))
	for _, ft := range faults {
		ft, err := ft.withDefaults()
		if err != nil {
			return err
		}
		checked = append(checked, ft)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ft := range checked {
		if ft.Persist {
			f.persistent = append(f.persistent, ft)
		} else if ft.Webhook {
			f.webhooks = append(f.webhooks, ft)
		} else {
			f.requests = append(f.requests, ft)
		}
	}
	return nil
}

// Random turns on the random mode: each request (and, for duplicate and
// reorder, each webhook) not hit by a queued fault gets one of kinds, chosen
// uniformly, with probability rate, using the seeded RNG. With no kinds it
// uses 429, 5xx and slow. Rate 0 turns it off.
func (f *Faults) Random(rate float64, kinds ...FaultKind) error {
	for _, k := range kinds {
		if !knownKinds[k] {
			return fmt.Errorf("sim: unknown fault kind %q", k)
		}
	}
	if len(kinds) == 0 {
		kinds = []FaultKind{FaultRateLimit, FaultServerError, FaultSlow}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rate = min(max(rate, 0), 1)
	f.kinds = kinds
	return nil
}

// ClearFaults drops queued and persistent faults and turns the random mode
// off.
func (f *Faults) ClearFaults() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.persistent, f.requests, f.webhooks, f.rate = nil, nil, nil, 0
}

// PendingFaults returns the persistent faults, then the queued ones,
// request faults first.
func (f *Faults) PendingFaults() []Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append(append(append([]Fault(nil), f.persistent...), f.requests...), f.webhooks...)
}

// AppliedFaults counts the faults applied so far, by kind.
func (f *Faults) AppliedFaults() map[FaultKind]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[FaultKind]int, len(f.applied))
	for k, v := range f.applied {
		out[k] = v
	}
	return out
}

// next pops the fault for one request (webhook=false, with its method and
// bearer token) or one delivery (method and token "").
func (f *Faults) next(webhook bool, method, token string) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !webhook {
		for _, ft := range f.persistent {
			if ft.matches(method, token) {
				f.applied[ft.Kind]++
				return ft, true
			}
		}
	}
	q := &f.requests
	if webhook {
		q = &f.webhooks
	}
	if len(*q) > 0 && !(*q)[0].matches(method, token) {
		return Fault{}, false
	}
	if len(*q) > 0 {
		ft := (*q)[0]
		ft.Count--
		if ft.Count == 0 {
			*q = (*q)[1:]
		} else {
			(*q)[0] = ft
		}
		f.applied[ft.Kind]++
		return ft, true
	}
	if f.rate == 0 {
		return Fault{}, false
	}
	var eligible []FaultKind
	for _, k := range f.kinds {
		isHook := k == FaultDuplicate || k == FaultReorder
		if isHook == webhook {
			eligible = append(eligible, k)
		}
	}
	if len(eligible) == 0 || f.rng.Float64() >= f.rate {
		return Fault{}, false
	}
	ft, _ := Fault{Kind: eligible[f.rng.IntN(len(eligible))]}.withDefaults()
	f.applied[ft.Kind]++
	return ft, true
}

// matches reports whether a request with method and bearer token is one
// the fault targets.
func (ft Fault) matches(method, token string) bool {
	return (ft.Method == "" || ft.Method == method) && (ft.Token == "" || ft.Token == token)
}

// middleware applies the next request fault, if any, before next.
func (f *Faults) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		ft, ok := f.next(false, r.Method, token)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		switch ft.Kind {
		case FaultRateLimit:
			w.Header().Set("Retry-After", retryAfter(ft.RetryAfter))
			writeError(w, http.StatusTooManyRequests, "rate limit exceeded")
		case FaultServerError:
			writeError(w, ft.Status, "internal error (injected)")
		case FaultUnauthorized:
			writeError(w, http.StatusUnauthorized, "invalid token")
		case FaultForbidden:
			writeError(w, http.StatusForbidden, "forbidden")
		case FaultSlow:
			if err := f.sleep(r.Context(), ft.Delay); err != nil {
				return
			}
			next.ServeHTTP(w, r)
		case FaultUnprocessable:
			writeError(w, http.StatusUnprocessableEntity, ft.Message)
		case FaultHangAfter:
			rec := &heldResponse{header: http.Header{}}
			next.ServeHTTP(rec, r)
			if err := f.sleep(r.Context(), ft.Delay); err != nil {
				return
			}
			rec.replay(w)
		case FaultApplyLate:
			// The request outlives its client: the work happens after the
			// delay even if nobody waits for the answer any more.
			late := r.WithContext(context.WithoutCancel(r.Context()))
			if err := f.sleep(late.Context(), ft.Delay); err != nil {
				return
			}
			rec := &heldResponse{header: http.Header{}}
			next.ServeHTTP(rec, late)
			if r.Context().Err() == nil {
				rec.replay(w)
			}
		case FaultReset:
			resetConn(w)
		case FaultOversized:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_ = writePadding(w, ft.Size)
		}
	})
}

// heldResponse records a response so FaultHangAfter can send it late.
type heldResponse struct {
	header http.Header
	status int
	body   []byte
}

func (h *heldResponse) Header() http.Header { return h.header }

func (h *heldResponse) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}

func (h *heldResponse) Write(b []byte) (int, error) {
	h.WriteHeader(http.StatusOK)
	h.body = append(h.body, b...)
	return len(b), nil
}

func (h *heldResponse) replay(w http.ResponseWriter) {
	for k, v := range h.header {
		w.Header()[k] = v
	}
	w.WriteHeader(cmp.Or(h.status, http.StatusOK))
	_, _ = w.Write(h.body)
}

// resetConn closes the client's connection without a response. SO_LINGER 0
// makes the close an RST rather than a FIN, which is what a crashed proxy or
// a dropped NAT entry looks like to the client.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		// HTTP/2 cannot be hijacked; abort the stream instead.
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// writePadding writes a syntactically valid JSON object of exactly size
// bytes (at least 15) without holding it in memory.
func writePadding(w io.Writer, size int) error {
	const open, closing = `{"padding":"`, `"}`
	n := max(0, size-len(open)-len(closing))
	if _, err := io.WriteString(w, open); err != nil {
		return err
	}
	chunk := strings.Repeat("x", 32<<10)
	for n > 0 {
		c := min(n, len(chunk))
		if _, err := io.WriteString(w, chunk[:c]); err != nil {
			return err
		}
		n -= c
	}
	_, err := io.WriteString(w, closing)
	return err
}

// faultJSON is Fault on the wire: durations as Go duration strings ("2s")
// or numbers of seconds.
type faultJSON struct {
	Kind       FaultKind `json:"kind"`
	Count      int       `json:"count,omitempty"`
	RetryAfter duration  `json:"retry_after,omitempty"`
	Status     int       `json:"status,omitempty"`
	Delay      duration  `json:"delay,omitempty"`
	Size       int       `json:"size,omitempty"`
	Message    string    `json:"message,omitempty"`
	Method     string    `json:"method,omitempty"`
	Webhook    bool      `json:"webhook,omitempty"`
	Token      string    `json:"token,omitempty"`
	Persist    bool      `json:"persist,omitempty"`
}

// MarshalJSON writes durations as strings such as "2s".
func (f Fault) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultJSON{f.Kind, f.Count, duration(f.RetryAfter), f.Status, duration(f.Delay), f.Size, f.Message, f.Method, f.Webhook, f.Token, f.Persist})
}

// UnmarshalJSON reads durations as strings ("1.5s") or seconds (1.5).
func (f *Fault) UnmarshalJSON(b []byte) error {
	var j faultJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*f = Fault{j.Kind, j.Count, time.Duration(j.RetryAfter), j.Status, time.Duration(j.Delay), j.Size, j.Message, j.Method, j.Webhook, j.Token, j.Persist}
	return nil
}

type duration time.Duration

func (d duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *duration) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case float64:
		*d = duration(v * float64(time.Second))
	case string:
		p, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("duration %q: %w", v, err)
		}
		*d = duration(p)
	default:
		return fmt.Errorf("duration: want a string like \"2s\" or a number of seconds")
	}
	return nil
}

// FaultsRequest is the body of POST /_sim/faults. Clear runs first, then the
// faults are queued, then Random (if present) replaces the random mode.
type FaultsRequest struct {
	Clear  bool          `json:"clear,omitempty"`
	Faults []Fault       `json:"faults,omitempty"`
	Random *RandomFaults `json:"random,omitempty"`
}

// RandomFaults is the random mode on the wire.
type RandomFaults struct {
	Rate  float64     `json:"rate"`
	Kinds []FaultKind `json:"kinds,omitempty"`
}

type faultsState struct {
	Pending []Fault           `json:"pending"`
	Random  RandomFaults      `json:"random"`
	Applied map[FaultKind]int `json:"applied"`
}

func (f *Faults) state() faultsState {
	f.mu.Lock()
	r := RandomFaults{Rate: f.rate, Kinds: append([]FaultKind(nil), f.kinds...)}
	f.mu.Unlock()
	return faultsState{Pending: f.PendingFaults(), Random: r, Applied: f.AppliedFaults()}
}

// adminHandler serves /_sim/faults: GET shows the state, POST changes it
// (FaultsRequest), DELETE clears it. It is unauthenticated: simulators listen
// on loopback only.
func (f *Faults) adminHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
		case http.MethodDelete:
			f.ClearFaults()
		case http.MethodPost:
			var req FaultsRequest
			if !decodeJSON(w, r, &req) {
				return
			}
			checked := make([]Fault, 0, len(req.Faults))
			for _, ft := range req.Faults {
				if _, err := ft.withDefaults(); err != nil {
					writeError(w, http.StatusUnprocessableEntity, err.Error())
					return
				}
				checked = append(checked, ft)
			}
			if req.Random != nil {
				for _, k := range req.Random.Kinds {
					if !knownKinds[k] {
						writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("sim: unknown fault kind %q", k))
						return
					}
				}
			}
			if req.Clear {
				f.ClearFaults()
			}
			_ = f.Inject(checked...)
			if req.Random != nil {
				_ = f.Random(req.Random.Rate, req.Random.Kinds...)
			}
		default:
			w.Header().Set("Allow", "GET, POST, DELETE")
			writeError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		writeJSON(w, http.StatusOK, f.state())
	})
}
