package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/webhook/signature"
)

// FairnessConfig is the fairness scenario's own settings; the load is
// Config's (rate, duration, tenants, database).
type FairnessConfig struct {
	// RetryAfter is what the storming partner answers with its 429s.
	// Default 1 s (the harshest: the held writes are asked to come back
	// every second).
	RetryAfter time.Duration
	// Quiet is how long phase C (the storm alone, no other traffic) and
	// the idle baseline before phase A are measured. Default Duration.
	Quiet time.Duration
}

// FairnessResult is one fairness run. Tenant 0 is the storming tenant in
// every phase; "others" are the remaining tenants.
type FairnessResult struct {
	Tenants    int
	Rate       float64
	Duration   time.Duration
	RetryAfter time.Duration
	DBCPU      bool // CPU figures include PostgreSQL's server processes
	// IdleCPU is CPU seconds per wall second with no traffic and no storm
	// (after warm-up): this process, and the database's processes
	// (PostgreSQL only).
	IdleCPU, IdleDBCPU float64
	// A and B are the other tenants' events without and with the storm:
	// send rate, late sends, missing deliveries and e2e latency from each
	// event's scheduled send to its delivery being final.
	A, B FairnessPhase
	// P50Ratio and P99Ratio are B / A of the others' e2e latency.
	P50Ratio, P99Ratio float64
	// The storming tenant: events accepted in B, how many of its writes
	// were held (event not final) at the end of B and of C, and the
	// requests (and 429s) its partner answered during B and C.
	StormAccepted            int
	HeldAfterB, HeldAfterC   int
	StormRequestsB, Storm429 int
	StormRequestsC           int
	// QuietCPU is phase C: CPU seconds per wall second while only the
	// storming tenant's held writes remain (no other traffic, the storm
	// on), this process and the database's processes.
	QuietCPU, QuietDBCPU float64
	// Released counts the storming tenant's held events delivered after
	// the storm ended, and ReleaseTime how long that took.
	Released    int
	ReleaseTime time.Duration
}

// FairnessPhase is the other tenants' figures in one phase.
type FairnessPhase struct {
	Events, Accepted, Late, Missing int
	Rate                            float64
	EndToEnd                        Latency
}

// RunFairness measures whether one tenant's 429 storm slows the others:
// phase A sends Config.Rate events/s over Config.Tenants tenants; phase B
// the same while tenant 0's incidents partner answers 429 (Retry-After
// f.RetryAfter) to every request; phase C stops the traffic and keeps the
// storm, to measure what the held writes cost while they wait, against an
// idle baseline measured before A. Then the storm ends and the held writes
// are released.
func RunFairness(ctx context.Context, c *Config, f *FairnessConfig) (*FairnessResult, error) {
	cfg, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.Tenants < 2 {
		return nil, fmt.Errorf("loadtest: fairness needs at least 2 tenants, got %d", cfg.Tenants)
	}
	fc := FairnessConfig{}
	if f != nil {
		fc = *f
	}
	if fc.RetryAfter <= 0 {
		fc.RetryAfter = time.Second
	}
	if fc.Quiet <= 0 {
		fc.Quiet = cfg.Duration
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
	res := &FairnessResult{Tenants: n, Rate: cfg.Rate, Duration: cfg.Duration, RetryAfter: fc.RetryAfter, DBCPU: dialect(cfg.DB) == "postgres"}

	warm := n
	drive(ctx, warm, 100, 1, func(i int, now time.Time) (string, []byte, http.Header) {
		return signed(scheme, sys.hooks[i], runID+"-w", "W"+strconv.Itoa(i), i, now)
	})
	if !waitIncidents(ctx, sys, warm, cfg.Drain) {
		return nil, fmt.Errorf("loadtest: warm-up: %d of %d incidents created within %s", sys.incidents.Count(), warm, cfg.Drain)
	}
	waitFinal(ctx, sys, warm, cfg.Drain)
	res.IdleCPU, res.IdleDBCPU = cpuPerSecond(ctx, res.DBCPU, fc.Quiet)

	phase := func(prefix string) ([]sent, FairnessPhase) {
		sends, elapsed := drive(ctx, cfg.Events, cfg.Rate, cfg.Clients, func(i int, now time.Time) (string, []byte, http.Header) {
			return signed(scheme, sys.hooks[i%n], runID, prefix+strconv.Itoa(i), i, now)
		})
		var others []sent
		for i, s := range sends {
			if i%n != 0 {
				others = append(others, s)
			}
		}
		t := tally("", others, elapsed)
		return sends, FairnessPhase{Events: t.Events, Accepted: t.Accepted, Late: t.Late, Rate: t.Rate * float64(n-1) / float64(n)}
	}
	// final collects the others' e2e latencies of a phase, waiting for
	// their deliveries (bounded by Drain), and counts those missing.
	final := func(prefix string, sends []sent, p *FairnessPhase) {
		key := func(i int) string { return "evt_" + runID + "_" + prefix + strconv.Itoa(i) }
		deadline := time.Now().Add(cfg.Drain)
		for {
			var e2e []time.Duration
			missing := 0
			for i, s := range sends {
				if i%n == 0 || s.status < 200 || s.status >= 300 {
					continue
				}
				if at, _, ok := sys.done.get(key(i)); ok {
					e2e = append(e2e, at.Sub(s.due))
				} else {
					missing++
				}
			}
			if missing == 0 || time.Now().After(deadline) || ctx.Err() != nil {
				p.EndToEnd, p.Missing = summarize(e2e), missing
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	held := func(prefix string, sends []sent) int {
		h := 0
		for i := 0; i < len(sends); i += n {
			if s := sends[i]; s.status >= 200 && s.status < 300 {
				if _, _, ok := sys.done.get("evt_" + runID + "_" + prefix + strconv.Itoa(i)); !ok {
					h++
				}
			}
		}
		return h
	}

	sendsA, pa := phase("A")
	final("A", sendsA, &pa)
	res.A = pa

	storm := sys.incToken[0]
	if err := sys.incidents.Inject(sim.Fault{Kind: sim.FaultRateLimit, RetryAfter: fc.RetryAfter, Token: storm, Persist: true}); err != nil {
		return nil, err
	}
	req0, lim0 := sys.calls.counts(storm)
	sendsB, pb := phase("B")
	final("B", sendsB, &pb)
	res.B = pb
	req1, lim1 := sys.calls.counts(storm)
	res.StormRequestsB, res.Storm429 = req1-req0, lim1-lim0
	for i := 0; i < len(sendsB); i += n {
		if s := sendsB[i]; s.status >= 200 && s.status < 300 {
			res.StormAccepted++
		}
	}
	res.HeldAfterB = held("B", sendsB)

	res.QuietCPU, res.QuietDBCPU = cpuPerSecond(ctx, res.DBCPU, fc.Quiet)
	req2, lim2 := sys.calls.counts(storm)
	res.StormRequestsC = req2 - req1
	res.Storm429 += lim2 - lim1
	res.HeldAfterC = held("B", sendsB)

	sys.incidents.ClearFaults()
	start := time.Now()
	deadline := start.Add(cfg.Drain)
	for held("B", sendsB) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	res.ReleaseTime = time.Since(start)
	res.Released = res.HeldAfterC - held("B", sendsB)

	if res.A.EndToEnd.P99 > 0 {
		res.P99Ratio = float64(res.B.EndToEnd.P99) / float64(res.A.EndToEnd.P99)
	}
	if res.A.EndToEnd.P50 > 0 {
		res.P50Ratio = float64(res.B.EndToEnd.P50) / float64(res.A.EndToEnd.P50)
	}
	return res, nil
}

// cpuPerSecond waits d and returns the CPU seconds per wall second this
// process, and the database's server processes when pg, used meanwhile.
func cpuPerSecond(ctx context.Context, pg bool, d time.Duration) (proc, db float64) {
	start, cpu, dbCPU := time.Now(), processCPU(), postgresCPU(pg)
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	wall := time.Since(start).Seconds()
	return (processCPU() - cpu).Seconds() / wall, (postgresCPU(pg) - dbCPU).Seconds() / wall
}

// WriteFairness prints fairness runs as markdown, one run per row.
func WriteFairness(w io.Writer, runs ...*FairnessResult) error {
	var b strings.Builder
	b.WriteString("Other tenants (all but the storming one), e2e ms from scheduled send to delivery final:\n\n")
	b.WriteString("| run | A: no storm p50 / p99 | B: storm p50 / p99 | ratio B/A p50 / p99 | late A / B | missing A / B |\n|---|---|---|---|---|---|\n")
	for i, r := range runs {
		fmt.Fprintf(&b, "| %d | %s / %s | %s / %s | %.2f / %.2f | %d / %d | %d / %d |\n", i+1,
			ms(r.A.EndToEnd.P50), ms(r.A.EndToEnd.P99), ms(r.B.EndToEnd.P50), ms(r.B.EndToEnd.P99),
			r.P50Ratio, r.P99Ratio, r.A.Late, r.B.Late, r.A.Missing, r.B.Missing)
	}
	db := ""
	if len(runs) > 0 && runs[0].DBCPU {
		db = " (+ PostgreSQL)"
	}
	b.WriteString("\nThe storming tenant (its incidents partner answers 429 to every request) and CPU seconds per wall second" + db + ":\n\n")
	b.WriteString("| run | Retry-After | accepted in B | held after B / C | partner requests B / C (429s) | idle CPU/s | C: held only CPU/s | released after storm |\n|---|---|---|---|---|---|---|---|\n")
	for i, r := range runs {
		fmt.Fprintf(&b, "| %d | %s | %d | %d / %d | %d / %d (%d) | %s | %s | %d in %.1f s |\n", i+1, r.RetryAfter,
			r.StormAccepted, r.HeldAfterB, r.HeldAfterC, r.StormRequestsB, r.StormRequestsC, r.Storm429,
			cpuRate(r.IdleCPU, r.IdleDBCPU, r.DBCPU), cpuRate(r.QuietCPU, r.QuietDBCPU, r.DBCPU), r.Released, r.ReleaseTime.Seconds())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func cpuRate(proc, db float64, pg bool) string {
	if !pg {
		return strconv.FormatFloat(proc, 'f', 3, 64)
	}
	return strconv.FormatFloat(proc, 'f', 3, 64) + " + " + strconv.FormatFloat(db, 'f', 3, 64)
}
