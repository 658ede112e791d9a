package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/webhook/signature"
)

// Defaults for BacklogConfig.
const (
	DefaultBacklogEvents     = 1_000_000
	DefaultBacklogRetryAfter = 30 * time.Second
	DefaultBacklogDrain      = 2 * time.Hour
	backlogProbes            = 50
)

// BacklogConfig is the backlog scenario's own settings; the steady phase
// uses Config's rate, duration and tenants.
type BacklogConfig struct {
	// Events is how many events are accepted while the partners are down.
	// Default 1,000,000.
	Events int
	// Outage is how the partners are down: "429" answers 429 with
	// RetryAfter to every request (the writes are held by Retry-After),
	// "503" answers 503 (the writes are retried with backoff). Default 429.
	Outage string
	// RetryAfter is the outage's Retry-After. Default 30 s.
	RetryAfter time.Duration
	// Drain bounds the wait for the backlog once the partners are back.
	// Default 2 h.
	Drain time.Duration
	// Hold keeps the partners down this much longer once the backlog is
	// accepted, before the held CPU is measured: held writes are woken
	// less often as an outage ages, which a backlog accepted in seconds
	// does not show. Default 0.
	Hold time.Duration
}

// BacklogResult is one backlog run.
type BacklogResult struct {
	Tenants int
	Outage  string
	// Steady is the steady phase: events delivered per second from the
	// first scheduled send to the last delivery, with healthy partners.
	SteadyEvents int
	SteadyRate   float64
	// SteadyPeak is the most requests one tenant made to the incidents
	// partner within one calendar second during the steady phase.
	SteadyPeak int
	// Accepted events while the partners were down, Errors the others,
	// and how long accepting them took (closed loop, Config.Clients).
	Accepted, Errors int
	AcceptTime       time.Duration
	// Held is accepted events not final when the partners came back.
	Held int
	// Memory of this process (Accord, simulators and the load driver)
	// after the backlog was accepted and handed off, from
	// /proc/self/status, and the Go heap in use (after a GC).
	BaselineRSS, HeldRSS, HeldHWM, HeldHeap uint64
	// HeldCPU is CPU seconds per wall second while the backlog waits
	// (this process, plus PostgreSQL's processes when DBCPU).
	HeldCPU, HeldDBCPU float64
	DBCPU              bool
	// OutageAge is how long the partners had been down when the held
	// CPU measurement began.
	OutageAge time.Duration
	// Probe latencies before the outage (baseline) and while the backlog
	// waits: /healthz, GET /api/v1/tenants/{t}/record-errors and the
	// tenant's UI page, each backlogProbes sequential requests.
	Probes []Probe
	// Drain: the partners back, how long until the first held event was
	// delivered, the delivery rate from then to the last, and the partner's
	// busiest second for one tenant meanwhile.
	Drained                int
	FirstDelivery, Drain   time.Duration
	DrainRate              float64
	DrainPeak              int
	DrainHWM               uint64
	ManifestRate, Burst    float64
	DrainRatio             float64 // DrainRate / SteadyRate
	DrainedAll, OutOfTime  bool
	ManifestAggregateLimit float64 // tenants × manifest rate
}

// Probe is one endpoint's latency, before and during the backlog.
type Probe struct {
	Name             string
	Before, During   Latency
	FailedB, FailedD int
}

// RunBacklog measures a partner outage with a large backlog: a steady
// phase with healthy partners gives the steady-state delivery rate; then
// both partners of the escalation contract (incidents and chat) answer 429
// or 503 to everything while b.Events events are accepted; memory, CPU
// and the API's and pages' latency are measured while the backlog waits;
// then the partners come back and the drain is timed, with each tenant's
// busiest second at the partner against the manifest's rate limit.
func RunBacklog(ctx context.Context, c *Config, b *BacklogConfig) (*BacklogResult, error) {
	cc := *c
	cc.countOnly = true
	cfg, err := cc.withDefaults()
	if err != nil {
		return nil, err
	}
	bc := BacklogConfig{}
	if b != nil {
		bc = *b
	}
	if bc.Events <= 0 {
		bc.Events = DefaultBacklogEvents
	}
	if bc.Outage == "" {
		bc.Outage = "429"
	}
	if bc.Outage != "429" && bc.Outage != "503" {
		return nil, fmt.Errorf("loadtest: backlog outage %q: want 429 or 503", bc.Outage)
	}
	if bc.RetryAfter <= 0 {
		bc.RetryAfter = DefaultBacklogRetryAfter
	}
	if bc.Drain <= 0 {
		bc.Drain = DefaultBacklogDrain
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
	n := len(sys.hooks)
	res := &BacklogResult{Tenants: n, Outage: bc.Outage, DBCPU: dialect(cfg.DB) == "postgres", ManifestRate: 50, Burst: 100}
	res.ManifestAggregateLimit = float64(n) * res.ManifestRate

	drive(ctx, n, 100, 1, func(i int, now time.Time) (string, []byte, http.Header) {
		return signed(scheme, sys.hooks[i], runID+"-w", "W"+strconv.Itoa(i), i, now)
	})
	if !waitIncidents(ctx, sys, n, cfg.Drain) {
		return nil, fmt.Errorf("loadtest: warm-up: %d of %d incidents created within %s", sys.incidents.Count(), n, cfg.Drain)
	}
	waitFinal(ctx, sys, n, cfg.Drain)

	// Steady state, partners healthy.
	sys.calls.resetPeak()
	start, before := time.Now(), sys.done.count()
	sends, _ := drive(ctx, cfg.Events, cfg.Rate, cfg.Clients, func(i int, now time.Time) (string, []byte, http.Header) {
		return signed(scheme, sys.hooks[i%n], runID, "S"+strconv.Itoa(i), i, now)
	})
	acc := tally("", sends, 0).Accepted
	waitFinal(ctx, sys, before+acc, cfg.Drain)
	res.SteadyEvents = sys.done.count() - before
	res.SteadyRate = float64(res.SteadyEvents) / time.Since(start).Seconds()
	res.SteadyPeak = sys.calls.peak()

	prober, err := newProber(ctx, sys.url, sys.tenants[0])
	if err != nil {
		return nil, err
	}
	res.Probes = prober.run(ctx, nil)
	runtime.GC()
	res.BaselineRSS, _ = procMemory()

	fault := sim.Fault{Kind: sim.FaultRateLimit, RetryAfter: bc.RetryAfter, Persist: true}
	if bc.Outage == "503" {
		fault = sim.Fault{Kind: sim.FaultServerError, Persist: true}
	}
	if err := sys.incidents.Inject(fault); err != nil {
		return nil, err
	}
	if err := sys.chat.Inject(fault); err != nil {
		return nil, err
	}
	doneAtOutage := sys.done.count()
	t0 := time.Now()
	res.Accepted, res.Errors = flood(ctx, bc.Events, cfg.Clients, func(i int, now time.Time) (string, []byte, http.Header) {
		return signed(scheme, sys.hooks[i%n], runID, "B"+strconv.Itoa(i), i, now)
	})
	res.AcceptTime = time.Since(t0)
	// The fast path hands what it cannot deliver to the queue; the
	// backlog is measured once nothing is pending in memory any more.
	for ctx.Err() == nil {
		p, err := sys.app.Store.ListPendingEvents(ctx, time.Now().Add(time.Hour), 1)
		if err == nil && len(p) == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if bc.Hold > 0 {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(bc.Hold):
		}
	}
	res.OutageAge = time.Since(t0)
	res.HeldCPU, res.HeldDBCPU = cpuPerSecond(ctx, res.DBCPU, 10*time.Second)
	res.Probes = prober.run(ctx, res.Probes)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.HeldHeap = ms.HeapInuse
	res.HeldRSS, res.HeldHWM = procMemory()
	res.Held = res.Accepted - (sys.done.count() - doneAtOutage)

	// The partners come back.
	sys.calls.resetPeak()
	sys.incidents.ClearFaults()
	sys.chat.ClearFaults()
	back := time.Now()
	target := doneAtOutage + res.Accepted
	deadline := back.Add(bc.Drain)
	var first time.Time
	for sys.done.count() < target && time.Now().Before(deadline) && ctx.Err() == nil {
		if first.IsZero() && sys.done.count() > doneAtOutage+(res.Accepted-res.Held) {
			first = time.Now()
		}
		time.Sleep(50 * time.Millisecond)
	}
	end := time.Now()
	res.Drain = end.Sub(back)
	res.Drained = sys.done.count() - doneAtOutage - (res.Accepted - res.Held)
	res.DrainedAll = sys.done.count() >= target
	res.OutOfTime = !res.DrainedAll
	if !first.IsZero() {
		res.FirstDelivery = first.Sub(back)
		if s := end.Sub(first).Seconds(); s > 0 {
			res.DrainRate = float64(res.Drained) / s
		}
	}
	if res.SteadyRate > 0 {
		res.DrainRatio = res.DrainRate / res.SteadyRate
	}
	res.DrainPeak = sys.calls.peak()
	_, res.DrainHWM = procMemory()
	return res, nil
}

// flood sends n events as fast as clients keep-alive connections are
// answered (closed loop: the point is to accept them, not to time each),
// keeping no per-event record.
func flood(ctx context.Context, n, clients int, req request) (accepted, errs int) {
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var next, ok, bad atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				url, body, header := req(i, time.Now())
				r, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
				if err != nil {
					bad.Add(1)
					continue
				}
				r.Header = header
				resp, err := client.Do(r)
				if err != nil {
					bad.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode >= 200 && resp.StatusCode < 300 {
					ok.Add(1)
				} else {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return int(ok.Load()), int(bad.Load())
}

// prober times the operator's endpoints: health, the record errors API
// and a tenant's UI page, signed in as the admin.
type prober struct {
	client  *http.Client
	targets []probeTarget
}

type probeTarget struct {
	name, url string
	bearer    bool
}

func newProber(ctx context.Context, base, tenant string) (*prober, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	p := &prober{client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	form := url.Values{"token": {adminToken}, "next": {"/ui/t/" + tenant + "/"}}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/ui/login", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.client.Do(r)
	if err != nil {
		return nil, fmt.Errorf("loadtest: signing in to the UI: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	p.targets = []probeTarget{
		{name: "GET /healthz", url: base + "/healthz"},
		{name: "GET /api/v1/tenants/{t}/record-errors", url: base + "/api/v1/tenants/" + tenant + "/record-errors", bearer: true},
		{name: "GET /ui/t/{t}/ (tenant page)", url: base + "/ui/t/" + tenant + "/"},
	}
	return p, nil
}

// run times each target backlogProbes times, one request at a time; with
// prev nil the figures are the baseline, else they fill prev's During.
func (p *prober) run(ctx context.Context, prev []Probe) []Probe {
	out := prev
	if out == nil {
		out = make([]Probe, len(p.targets))
	}
	for ti, t := range p.targets {
		var ds []time.Duration
		failed := 0
		for range backlogProbes {
			r, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
			if err != nil {
				failed++
				continue
			}
			if t.bearer {
				r.Header.Set("Authorization", "Bearer "+adminToken)
			}
			start := time.Now()
			resp, err := p.client.Do(r)
			if err != nil {
				failed++
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			ds = append(ds, time.Since(start))
			if resp.StatusCode != http.StatusOK {
				failed++
			}
		}
		out[ti].Name = t.name
		if prev == nil {
			out[ti].Before, out[ti].FailedB = summarize(ds), failed
		} else {
			out[ti].During, out[ti].FailedD = summarize(ds), failed
		}
	}
	return out
}

// procMemory returns this process's resident set and its peak (VmRSS,
// VmHWM) in bytes, or zeros where /proc is not there.
func procMemory() (rss, hwm uint64) {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) < 1 {
			continue
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			rss = kb << 10
		case "VmHWM":
			hwm = kb << 10
		}
	}
	return rss, hwm
}

// WriteBacklog prints backlog runs as markdown.
func WriteBacklog(w io.Writer, runs ...*BacklogResult) error {
	var b strings.Builder
	b.WriteString("| run | tenants | outage | held writes | accepted in | RSS before / held (peak) | Go heap held | CPU/s while held (outage age) | steady rate | drain rate (ratio) | first delivery after return | drained | busiest tenant-second at partner steady / drain (manifest 50/s, burst 100) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for i, r := range runs {
		drained := fmt.Sprintf("%d in %.1f s", r.Drained, r.Drain.Seconds())
		if r.OutOfTime {
			drained += " (out of time)"
		}
		fmt.Fprintf(&b, "| %d | %d | %s | %d | %.1f s (%.0f/s) | %d / %d (%d) MiB | %d MiB | %s (%.0f s) | %.0f/s | %.0f/s (%.2f) | %.1f s | %s | %d / %d |\n", i+1, r.Tenants, r.Outage,
			r.Held, r.AcceptTime.Seconds(), float64(r.Accepted)/max(r.AcceptTime.Seconds(), 1e-9), r.BaselineRSS>>20, r.HeldRSS>>20, r.HeldHWM>>20, r.HeldHeap>>20,
			cpuRate(r.HeldCPU, r.HeldDBCPU, r.DBCPU), r.OutageAge.Seconds(), r.SteadyRate, r.DrainRate, r.DrainRatio, r.FirstDelivery.Seconds(), drained, r.SteadyPeak, r.DrainPeak)
	}
	b.WriteString("\nLatency of the operator's endpoints, ms, 50 sequential requests each, before the outage / while the backlog waits:\n\n")
	b.WriteString("| run | endpoint | before p50 / p99 / max | held p50 / p99 / max | failed before / held |\n|---|---|---|---|---|\n")
	for i, r := range runs {
		for _, p := range r.Probes {
			fmt.Fprintf(&b, "| %d | %s | %s / %s / %s | %s / %s / %s | %d / %d |\n", i+1, p.Name,
				ms(p.Before.P50), ms(p.Before.P99), ms(p.Before.Max), ms(p.During.P50), ms(p.During.P99), ms(p.During.Max), p.FailedB, p.FailedD)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
