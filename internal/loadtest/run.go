package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/accordhq/accord/internal/webhook/signature"
)

// lateAfter is how far behind its schedule a send may start before it
// counts as late: the driver, not Accord, was then the bottleneck.
const lateAfter = 5 * time.Millisecond

// Result is one run's figures.
type Result struct {
	// Name says what was measured: the database, or "noop" for the ceiling.
	Name string
	// Events is how many events were due; Accepted were answered 2xx and
	// Errors anything else (including transport errors).
	Events, Accepted, Errors int
	// Missing counts accepted events whose delivery was not final before
	// Config.Drain ran out.
	Missing int
	// Late counts sends that started more than 5 ms after they were due.
	// Their lateness is inside every latency below, which is timed from
	// the scheduled send (open loop: no coordinated omission).
	Late int
	// Rate is the achieved send rate, events per second.
	Rate float64
	// Ack is scheduled send → response (the webhook's 2xx, durable).
	Ack Latency
	// EndToEnd is scheduled send → the event's delivery is final: every
	// action's partner write answered and its link committed (both the
	// incident and the chat message, for the escalation contract),
	// measured per event.
	EndToEnd Latency
	// FirstWrite is scheduled send → the incidents simulator created the
	// incident: the figure earlier versions called e2e, kept to compare.
	FirstWrite Latency
	// CPUPerEvent is CPU time per event during the run: this process
	// (Accord, simulators and driver together) plus, on PostgreSQL, the
	// database server's processes (DBCPU says so).
	CPUPerEvent time.Duration
	// DBCPU reports whether CPUPerEvent includes the database server's
	// CPU (PostgreSQL's backends, read from /proc).
	DBCPU bool
	// Engine is accord_event_to_action_seconds{provider="incidents"}
	// (receipt → partner write) over the measured events, estimated from
	// its buckets; Max is a bucket bound.
	Engine Latency
}

// Run starts Accord and its partners as c says, sends the load and returns
// what it measured. A failed setup is an error; failed events are counted
// in the Result.
func Run(ctx context.Context, c *Config) (*Result, error) {
	cfg, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	sys, err := startSystem(ctx, &cfg)
	if err != nil {
		return nil, err
	}
	defer sys.close()
	scheme, err := signature.New("standard-webhooks", signature.Options{})
	if err != nil {
		return nil, err
	}
	runID := strings.ToLower(randomID())

	// Warm-up: one event per tenant, so connection pools, caches and
	// compiled contracts exist before the clock starts.
	warm := len(sys.hooks)
	drive(ctx, warm, 100, 1, func(i int, now time.Time) (string, []byte, http.Header) {
		return signed(scheme, sys.hooks[i], runID+"-w", "W"+strconv.Itoa(i), i, now)
	})
	if !waitIncidents(ctx, sys, warm, cfg.Drain) {
		return nil, fmt.Errorf("loadtest: warm-up: %d of %d incidents created within %s", sys.incidents.Count(), warm, cfg.Drain)
	}
	before, err := engineBuckets(sys.app.Registry)
	if err != nil {
		return nil, err
	}

	pg := dialect(cfg.DB) == "postgres"
	cpu, dbCPU := processCPU(), postgresCPU(pg)
	sends, elapsed := drive(ctx, cfg.Events, cfg.Rate, cfg.Clients, func(i int, now time.Time) (string, []byte, http.Header) {
		return signed(scheme, sys.hooks[i%len(sys.hooks)], runID, "T"+strconv.Itoa(i), i, now)
	})
	res := tally("", sends, elapsed)
	res.Name = dialect(cfg.DB)
	waitFinal(ctx, sys, warm+res.Accepted, cfg.Drain)
	res.CPUPerEvent = (processCPU() - cpu + postgresCPU(pg) - dbCPU) / time.Duration(max(1, res.Accepted))
	res.DBCPU = pg

	var e2e, first []time.Duration
	for i, s := range sends {
		if s.status < 200 || s.status >= 300 {
			continue
		}
		if at, _, ok := sys.done.get("evt_" + runID + "_T" + strconv.Itoa(i)); ok {
			e2e = append(e2e, at.Sub(s.due))
		}
	}
	for _, in := range sys.incidents.Incidents() {
		id, ok := strings.CutPrefix(in.ExternalID, "T")
		if !ok {
			continue
		}
		i, err := strconv.Atoi(id)
		if err != nil || i < 0 || i >= len(sends) || sends[i].due.IsZero() {
			continue
		}
		first = append(first, in.CreatedAt.Sub(sends[i].due))
	}
	res.EndToEnd = summarize(e2e)
	res.FirstWrite = summarize(first)
	res.Missing = res.Accepted - len(e2e)
	after, err := engineBuckets(sys.app.Registry)
	if err != nil {
		return nil, err
	}
	res.Engine = histogramLatency(minus(after, before))
	return res, nil
}

// RunNoop sends the same load as Run to a handler that reads the body and
// answers 202: the ceiling of the driver and HTTP stack on this machine.
func RunNoop(ctx context.Context, c *Config) (*Result, error) {
	cfg, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"status":"accepted"}`)
	}))
	defer srv.Close()
	scheme, err := signature.New("standard-webhooks", signature.Options{})
	if err != nil {
		return nil, err
	}
	runID := strings.ToLower(randomID())
	cpu := processCPU()
	sends, elapsed := drive(ctx, cfg.Events, cfg.Rate, cfg.Clients, func(i int, now time.Time) (string, []byte, http.Header) {
		return signed(scheme, srv.URL+"/hooks/noop", runID, "T"+strconv.Itoa(i), i, now)
	})
	res := tally("noop", sends, elapsed)
	res.CPUPerEvent = (processCPU() - cpu) / time.Duration(max(1, len(sends)))
	return res, nil
}

func tally(name string, sends []sent, elapsed time.Duration) *Result {
	res := &Result{Name: name, Events: len(sends)}
	acks := make([]time.Duration, 0, len(sends))
	var last time.Time
	for _, s := range sends {
		if s.status >= 200 && s.status < 300 {
			res.Accepted++
			// From when it was due, not when the client got to it: a
			// driver that fell behind shows here, not nowhere.
			acks = append(acks, s.at.Sub(s.due)+s.ack)
		} else {
			res.Errors++
		}
		if !s.at.IsZero() && s.at.Sub(s.due) > lateAfter {
			res.Late++
		}
		if s.at.After(last) {
			last = s.at
		}
	}
	if len(sends) > 1 && !last.IsZero() {
		res.Rate = float64(len(sends)-1) / last.Sub(sends[0].due).Seconds()
	} else if elapsed > 0 {
		res.Rate = float64(len(sends)) / elapsed.Seconds()
	}
	res.Ack = summarize(acks)
	return res
}

// waitIncidents waits until the incidents simulator holds n incidents or d
// has passed, and says whether it got there.
func waitIncidents(ctx context.Context, sys *system, n int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for sys.incidents.Count() < n {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}

// waitFinal waits until n events' deliveries are final or d has passed.
func waitFinal(ctx context.Context, sys *system, n int, d time.Duration) {
	deadline := time.Now().Add(d)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for sys.done.count() < n && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ticketEvent is the helpdesk simulator's webhook body for an escalated
// ticket, as its manifest describes it.
type ticketEvent struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      ticket    `json:"data"`
}

type ticket struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Priority    string    `json:"priority"`
	Status      string    `json:"status"`
	CustomerID  string    `json:"customer_id"`
	URL         string    `json:"url"`
	Version     int       `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

var priorities = [...]string{"low", "med", "high"}

// signed builds the webhook for ticket id (already escalated, version 2)
// and signs it as the helpdesk would.
func signed(scheme signature.Scheme, url, runID, id string, i int, now time.Time) (string, []byte, http.Header) {
	ev := ticketEvent{
		ID: "evt_" + runID + "_" + id, Type: "ticket.updated", Timestamp: now.UTC(),
		Data: ticket{
			ID: id, Title: "Checkout is failing for customer " + strconv.Itoa(i),
			Description: "Payments time out after 30 seconds; the customer escalated by phone.",
			Priority:    priorities[i%len(priorities)], Status: "escalated", CustomerID: "cus_" + strconv.Itoa(i%97),
			URL: "https://helpdesk.example/tickets/" + id, Version: 2, CreatedAt: now.UTC(), UpdatedAt: now.UTC(),
		},
	}
	body, _ := json.Marshal(ev) // plain strings, ints and times: cannot fail
	h, err := scheme.Sign(body, []byte(webhookSecret), now, "msg_"+runID+"_"+id)
	if err != nil {
		h = http.Header{} // unreachable with a plain secret; the 401 would show in Errors
	}
	h.Set("Content-Type", "application/json")
	return url, body, h
}

// engineBuckets reads accord_event_to_action_seconds for the incidents
// provider as cumulative buckets ending with +Inf.
func engineBuckets(g prometheus.Gatherer) ([]bucket, error) {
	mfs, err := g.Gather()
	if err != nil {
		return nil, fmt.Errorf("loadtest: gathering metrics: %w", err)
	}
	var out []bucket
	for _, mf := range mfs {
		if mf.GetName() != "accord_event_to_action_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			incidents := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "provider" && lp.GetValue() == "incidents" {
					incidents = true
				}
			}
			if !incidents {
				continue
			}
			h := m.GetHistogram()
			for _, b := range h.GetBucket() {
				out = append(out, bucket{upper: b.GetUpperBound(), count: b.GetCumulativeCount()})
			}
			out = append(out, bucket{upper: math.Inf(1), count: h.GetSampleCount()})
		}
	}
	return out, nil
}

func randomID() string { return rand.Text()[:10] }
