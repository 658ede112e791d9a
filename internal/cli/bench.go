package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/accordhq/accord/internal/loadtest"
	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/telemetry"
)

func init() {
	register(&command{
		name:    "bench",
		summary: "measure webhook → partner write latency at a fixed rate, with a no-op baseline",
		usage:   "[flags]",
		example: "accord bench --rate 500 --duration 10s --db postgres://postgres@127.0.0.1:5432/test",
		setup: func(fs *flag.FlagSet, env *Env) runFunc {
			var (
				c              loadtest.Config
				cooldown, poll time.Duration
				baseline       bool
				logLevel       string
				jsonFile       string
			)
			fs.StringVar(&c.DB, "db", "", "database: sqlite:PATH or postgres://… (a schema of its own is created and dropped); default a temporary SQLite file")
			fs.Float64Var(&c.Rate, "rate", loadtest.DefaultRate, "events per second, open loop")
			fs.DurationVar(&c.Duration, "duration", loadtest.DefaultDuration, "how long to send")
			fs.IntVar(&c.Clients, "clients", loadtest.DefaultClients, "keep-alive clients sending")
			fs.IntVar(&c.Tenants, "tenants", 0, "tenants the events are spread over (the incidents manifest allows 50 req/s per tenant); default max(20, rate/25)")
			fs.IntVar(&c.Workers, "workers", loadtest.DefaultWorkers, "maximum concurrent jobs")
			fs.StringVar(&c.SQLiteSynchronous, "sqlite-synchronous", "FULL", "SQLite durability: FULL or NORMAL")
			fs.DurationVar(&cooldown, "fetch-cooldown", 0, "queue FetchCooldown override (0: the queue's default)")
			fs.DurationVar(&poll, "fetch-poll-interval", 0, "queue FetchPollInterval override (0: the queue's default)")
			fs.BoolVar(&baseline, "baseline", true, "also measure a no-op handler answering 202 with the same load")
			fs.StringVar(&logLevel, "log-level", "", "Accord's log level on stderr (debug, info, warn, error); default silent")
			fs.StringVar(&jsonFile, "json", "", "also write the results, the machine and the git revision as JSON to this file")
			scenario := addScenarioFlags(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return fmt.Errorf("unexpected arguments %q", args)
				}
				if cooldown > 0 || poll > 0 {
					c.Queue = &queue.Config{FetchCooldown: cooldown, FetchPollInterval: poll}
				}
				if logLevel != "" {
					c.Logger = telemetry.NewLogger(env.Stderr, "text", logLevel)
				} else {
					c.Logger = slog.New(slog.DiscardHandler)
				}
				if scenario.name != "" {
					return runScenario(ctx, env, scenario, &c, jsonFile)
				}
				var results []*loadtest.Result
				noop := func(name string) error {
					r, err := loadtest.RunNoop(ctx, &c)
					if err != nil {
						return err
					}
					r.Name = name
					results = append(results, r)
					return nil
				}
				// The ceiling before and after: how much the machine itself
				// moved during the run shows as their spread.
				if baseline {
					if err := noop("noop (before)"); err != nil {
						return err
					}
				}
				r, err := loadtest.Run(ctx, &c)
				if err != nil {
					return err
				}
				results = append(results, r)
				if baseline {
					if err := noop("noop (after)"); err != nil {
						return err
					}
				}
				report := loadtest.NewReport(&c, results)
				fmt.Fprintf(env.Stdout, "%g events/s for %s, %d clients, %d tenants, open loop. Latencies in ms from each event's scheduled send: ack = durable 2xx; e2e = the event's delivery final (every action's partner write answered and its link committed); first write = incident created at the simulator; engine = accord_event_to_action_seconds. Late sends are counted and included.\n\n",
					report.Config.Rate, report.Config.Duration, report.Config.Clients, report.Config.Tenants)
				if err := loadtest.WriteTable(env.Stdout, results...); err != nil {
					return err
				}
				if baseline {
					fmt.Fprintf(env.Stdout, "\nno-op ceiling spread from start to end: %+.1f%%\n", report.CeilingSpread)
				}
				if jsonFile != "" {
					f, err := os.Create(jsonFile)
					if err != nil {
						return err
					}
					defer f.Close()
					return report.WriteJSON(f)
				}
				return nil
			}
		},
	})
}
