package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/accordhq/accord/internal/sim"
)

// simulator is what `accord sim` runs: any of the three partner fakes.
type simulator interface {
	Start(ctx context.Context, addr string) (string, error)
	Stop()
}

// Default simulator addresses: the ones the shipped manifests fall back to
// when HELPDESK_URL, INCIDENTS_URL and CHAT_URL are unset.
const (
	defaultHelpdeskAddr  = "127.0.0.1:9101"
	defaultIncidentsAddr = "127.0.0.1:9102"
	defaultChatAddr      = "127.0.0.1:9103"
	defaultBillingAddr   = "127.0.0.1:9104"
	defaultCRMAddr       = "127.0.0.1:9105"
)

func init() {
	for _, s := range []struct {
		name, addr, routes string
		build              func(fs *flag.FlagSet, cfg *sim.Config) func() (simulator, error)
	}{
		{"helpdesk", defaultHelpdeskAddr, "GET|POST /tickets, GET|PATCH /tickets/{id}; signed webhooks to --subscribe", buildHelpdesk},
		{"incidents", defaultIncidentsAddr, "POST|GET /v1/incidents, GET|PATCH /v1/incidents/{id}", buildIncidents},
		{"chat", defaultChatAddr, "POST|GET /v1/channels/{channel}/messages", buildChat},
		{"billing", defaultBillingAddr, "GET|POST /v1/customers[/{id}], GET|POST /v1/subscriptions[/{id}]; Stripe-signed webhooks to --subscribe", buildBilling},
		{"crm", defaultCRMAddr, "POST /crm/v3/objects/companies[/search], GET|PATCH /crm/v3/objects/companies/{id}", buildCRM},
	} {
		register(&command{
			name:    "sim " + s.name,
			summary: "run the " + s.name + " partner simulator (tests, demos, contract development)",
			usage:   "[--addr 127.0.0.1:PORT] [--token TOKEN]",
			example: "accord sim " + s.name + " --addr " + s.addr,
			setup: func(fs *flag.FlagSet, env *Env) runFunc {
				addr := fs.String("addr", s.addr, "listen address (127.0.0.1 only)")
				token := fs.String("token", "sim-token", "bearer token the simulator accepts, with every scope")
				seed := fs.Uint64("seed", 1, "seed of the random fault mode (POST /_sim/faults)")
				cfg := &sim.Config{}
				build := s.build(fs, cfg)
				return func(ctx context.Context, args []string) error {
					if len(args) > 0 {
						return fmt.Errorf("unexpected arguments %q", args)
					}
					cfg.Token, cfg.Seed = *token, *seed
					cfg.Logger = slog.New(slog.NewTextHandler(env.Stderr, nil))
					srv, err := build()
					if err != nil {
						return err
					}
					return runSimulator(ctx, env.Stdout, s.name, s.routes, srv, *addr)
				}
			},
		})
	}
}

func buildHelpdesk(fs *flag.FlagSet, cfg *sim.Config) func() (simulator, error) {
	subscribe := fs.String("subscribe", "", "URL that receives a signed webhook on every ticket change, e.g. http://127.0.0.1:8080/hooks/CONNECTION_ID")
	secret := fs.String("webhook-secret", "", "standard-webhooks signing secret for --subscribe")
	return func() (simulator, error) {
		if (*subscribe == "") != (*secret == "") {
			return nil, errors.New("--subscribe and --webhook-secret go together")
		}
		h := sim.NewHelpdesk(cfg)
		if *subscribe != "" {
			h.Subscribe(*subscribe, *secret)
		}
		return h, nil
	}
}

func buildBilling(fs *flag.FlagSet, cfg *sim.Config) func() (simulator, error) {
	subscribe := fs.String("subscribe", "", "URL that receives a Stripe-signed webhook on every change, e.g. http://127.0.0.1:8080/hooks/CONNECTION_ID")
	secret := fs.String("webhook-secret", "", "signing secret for --subscribe")
	return func() (simulator, error) {
		if (*subscribe == "") != (*secret == "") {
			return nil, errors.New("--subscribe and --webhook-secret go together")
		}
		b := sim.NewBilling(cfg)
		if *subscribe != "" {
			b.Subscribe(*subscribe, *secret)
		}
		return b, nil
	}
}

func buildCRM(fs *flag.FlagSet, cfg *sim.Config) func() (simulator, error) {
	lag := fs.Duration("search-lag", 2*time.Second, "how long a write takes to show in search results")
	rps := fs.Float64("rate", 20, "requests per second allowed per token (negative: unlimited)")
	return func() (simulator, error) {
		cfg.SearchLag, cfg.RateLimit = *lag, *rps
		return sim.NewCRM(cfg), nil
	}
}

func buildIncidents(fs *flag.FlagSet, cfg *sim.Config) func() (simulator, error) {
	rateLimit := fs.Float64("rate-limit", 20, "requests per second before 429 (negative: unlimited)")
	return func() (simulator, error) {
		cfg.RateLimit = *rateLimit
		return sim.NewIncidents(cfg), nil
	}
}

func buildChat(_ *flag.FlagSet, cfg *sim.Config) func() (simulator, error) {
	return func() (simulator, error) { return sim.NewChat(cfg), nil }
}

// runSimulator serves srv on addr until ctx ends.
func runSimulator(ctx context.Context, out io.Writer, name, routes string, srv simulator, addr string) error {
	url, err := srv.Start(ctx, addr)
	if err != nil {
		return err
	}
	defer srv.Stop()
	fmt.Fprintf(out, "%s simulator listening on %s\n  API:    %s\n  faults: curl -X POST %s/_sim/faults -d '{\"faults\":[{\"kind\":\"429\",\"retry_after\":\"2s\"}]}'\nCtrl-C stops it.\n",
		name, url, routes, url)
	<-ctx.Done()
	return nil
}
