package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
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
			)
			fs.StringVar(&c.DB, "db", "", "database: sqlite:PATH or postgres://… (a schema of its own is created and dropped); default a temporary SQLite file")
			fs.Float64Var(&c.Rate, "rate", loadtest.DefaultRate, "events per second, open loop")
			fs.DurationVar(&c.Duration, "duration", loadtest.DefaultDuration, "how long to send")
			fs.IntVar(&c.Clients, "clients", loadtest.DefaultClients, "keep-alive clients sending")
			fs.IntVar(&c.Tenants, "tenants", loadtest.DefaultTenants, "tenants the events are spread over (the incidents manifest allows 50 req/s per tenant)")
			fs.IntVar(&c.Workers, "workers", loadtest.DefaultWorkers, "maximum concurrent jobs")
			fs.StringVar(&c.SQLiteSynchronous, "sqlite-synchronous", "FULL", "SQLite durability: FULL or NORMAL")
			fs.DurationVar(&cooldown, "fetch-cooldown", 0, "queue FetchCooldown override (0: the queue's default)")
			fs.DurationVar(&poll, "fetch-poll-interval", 0, "queue FetchPollInterval override (0: the queue's default)")
			fs.BoolVar(&baseline, "baseline", true, "also measure a no-op handler answering 202 with the same load")
			fs.StringVar(&logLevel, "log-level", "", "Accord's log level on stderr (debug, info, warn, error); default silent")
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
				var results []*loadtest.Result
				if baseline {
					r, err := loadtest.RunNoop(ctx, &c)
					if err != nil {
						return err
					}
					results = append(results, r)
				}
				r, err := loadtest.Run(ctx, &c)
				if err != nil {
					return err
				}
				results = append(results, r)
				fmt.Fprintf(env.Stdout, "%g events/s for %s, %d clients, %d tenants; latencies in ms (e2e: send → incident created; engine: accord_event_to_action_seconds)\n\n",
					c.Rate, c.Duration, c.Clients, c.Tenants)
				return loadtest.WriteTable(env.Stdout, results...)
			}
		},
	})
}
