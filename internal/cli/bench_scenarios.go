package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/accordhq/accord/internal/loadtest"
)

// scenarioFlags are accord bench's flags for the scenarios beyond the
// default latency run: --scenario fairness and --scenario backlog.
type scenarioFlags struct {
	name       string
	repeat     int
	retryAfter time.Duration
	events     int
	outage     string
	drain      time.Duration
	hold       time.Duration
}

func addScenarioFlags(fs *flag.FlagSet) *scenarioFlags {
	s := &scenarioFlags{}
	fs.StringVar(&s.name, "scenario", "", "fairness (one tenant's partner answers 429 to everything: the others' latency and the held writes' CPU) or backlog (partners down while --backlog-events are accepted: memory, API latency, drain rate); default the latency run")
	fs.IntVar(&s.repeat, "repeat", 1, "scenarios: runs, each on a fresh database; the summary gives the median and spread")
	fs.DurationVar(&s.retryAfter, "retry-after", 0, "scenarios: the storming or down partner's Retry-After (default 1s for fairness, 30s for backlog)")
	fs.IntVar(&s.events, "backlog-events", loadtest.DefaultBacklogEvents, "backlog: events accepted while the partners are down")
	fs.StringVar(&s.outage, "outage", "429", "backlog: how the partners are down, 429 (held by Retry-After) or 503 (retried with backoff)")
	fs.DurationVar(&s.drain, "backlog-drain", loadtest.DefaultBacklogDrain, "backlog: the longest wait for the backlog to drain")
	fs.DurationVar(&s.hold, "backlog-hold", 0, "backlog: keep the partners down this much longer after the backlog is accepted, before the held CPU is measured (held writes wake less often as an outage ages)")
	return s
}

// runScenario runs s.name s.repeat times and prints the rows, a summary of
// medians and spreads, and optionally the JSON report.
func runScenario(ctx context.Context, env *Env, s *scenarioFlags, c *loadtest.Config, jsonFile string) error {
	report := loadtest.NewReport(c, nil)
	var out any
	switch s.name {
	case "fairness":
		var runs []*loadtest.FairnessResult
		for range max(1, s.repeat) {
			r, err := loadtest.RunFairness(ctx, c, &loadtest.FairnessConfig{RetryAfter: s.retryAfter})
			if err != nil {
				return err
			}
			runs = append(runs, r)
		}
		fmt.Fprintf(env.Stdout, "fairness: %g events/s for %s per phase over %d tenants, open loop; tenant 0's incidents partner answers 429 (Retry-After %s) to every request in phases B and C. This process holds Accord, the simulators and the load driver.\n\n",
			runs[0].Rate, runs[0].Duration, runs[0].Tenants, runs[0].RetryAfter)
		if err := loadtest.WriteFairness(env.Stdout, runs...); err != nil {
			return err
		}
		p99 := spread(runs, func(r *loadtest.FairnessResult) float64 { return r.P99Ratio })
		p50 := spread(runs, func(r *loadtest.FairnessResult) float64 { return r.P50Ratio })
		quiet := spread(runs, func(r *loadtest.FairnessResult) float64 { return r.QuietCPU + r.QuietDBCPU })
		idle := spread(runs, func(r *loadtest.FairnessResult) float64 { return r.IdleCPU + r.IdleDBCPU })
		fmt.Fprintf(env.Stdout, "\n%d runs: others' e2e p99 B/A median %.2f (%.2f–%.2f), p50 B/A median %.2f (%.2f–%.2f); CPU s/s held only median %.3f (%.3f–%.3f) vs idle %.3f (%.3f–%.3f). Target: p99 B/A ≤ 1.5.\n",
			len(runs), p99[1], p99[0], p99[2], p50[1], p50[0], p50[2], quiet[1], quiet[0], quiet[2], idle[1], idle[0], idle[2])
		out = runs
	case "backlog":
		var runs []*loadtest.BacklogResult
		for range max(1, s.repeat) {
			r, err := loadtest.RunBacklog(ctx, c, &loadtest.BacklogConfig{Events: s.events, Outage: s.outage, RetryAfter: s.retryAfter, Drain: s.drain, Hold: s.hold})
			if err != nil {
				return err
			}
			runs = append(runs, r)
		}
		fmt.Fprintf(env.Stdout, "backlog: steady phase %g events/s for %s over %d tenants; then the incidents and chat partners answer %s to everything while %d events are accepted; then they come back. This process holds Accord, the simulators and the load driver; RSS from /proc/self/status.\n\n",
			c.Rate, c.Duration, runs[0].Tenants, runs[0].Outage, s.events)
		if err := loadtest.WriteBacklog(env.Stdout, runs...); err != nil {
			return err
		}
		rss := spread(runs, func(r *loadtest.BacklogResult) float64 { return float64(r.HeldHWM >> 20) })
		ratio := spread(runs, func(r *loadtest.BacklogResult) float64 { return r.DrainRatio })
		fmt.Fprintf(env.Stdout, "\n%d runs: peak RSS while held median %.0f MiB (%.0f–%.0f), target ≤ 200; drain/steady median %.2f (%.2f–%.2f), target ≥ 1.\n",
			len(runs), rss[1], rss[0], rss[2], ratio[1], ratio[0], ratio[2])
		out = runs
	default:
		return fmt.Errorf("unknown scenario %q: want fairness or backlog", s.name)
	}
	if jsonFile == "" {
		return nil
	}
	f, err := os.Create(jsonFile)
	if err != nil {
		return err
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*loadtest.Report
		Scenario string `json:"scenario"`
		Runs     any    `json:"runs"`
	}{report, s.name, out})
}

// spread returns the minimum, median and maximum of f over runs.
func spread[T any](runs []T, f func(T) float64) [3]float64 {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return [3]float64{v[0], v[len(v)/2], v[len(v)-1]}
}
