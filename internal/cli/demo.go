package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/accordhq/accord/internal/app"
	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/telemetry"
	"github.com/accordhq/accord/internal/web/api"
)

// Demo settings a user may want to type or script against.
const (
	demoAdminToken = "demo-admin-token"
	demoTenant     = "demo"
	demoSimToken   = "sim-token"
	// demoWebhookSecret signs the simulators' webhooks; the demo is local
	// only, so a fixed secret is fine and lets users replay a webhook.
	demoWebhookSecret = "demo-webhook-secret-change-me-in-production"
	// demoDefaultPack is what `accord demo` runs without --pack.
	demoDefaultPack = "support-escalation"
)

// demoScenario is one pack's demo: its simulators, its installation, the
// traffic it drives and what it prints. The shared set-up (database,
// Accord, the tenant, the progress loop) is runDemo's; adding a demo is
// one file with a scenario and one registerDemo call.
type demoScenario interface {
	// partners creates the scenario's simulators, each named by the
	// variable the pack's manifests read its URL from (HELPDESK_URL…).
	partners(o demoOptions) []demoPartner
	// install connects the partners for d.tenant and installs the pack's
	// contract through the admin API (d.admin), as an operator would.
	install(ctx context.Context, d *demo) error
	// faults turns random faults on at rate (a share of requests), once
	// the installation is done.
	faults(rate float64)
	// welcome prints what runs and what to look at.
	welcome(d *demo)
	// traffic acts as the partners' users until ctx ends.
	traffic(ctx context.Context, d *demo)
	// progress is the one-line summary printed every few seconds.
	progress(ctx context.Context, d *demo) string
}

// demoPartner is a simulator and the variable its URL goes to.
type demoPartner struct {
	env string
	srv simulator
}

// demoScenarios are the registered demos by pack name.
var demoScenarios = map[string]func() demoScenario{}

// registerDemo makes `accord demo --pack pack` run the scenario newScenario
// returns; a pack registered twice is a programming error.
func registerDemo(pack string, newScenario func() demoScenario) {
	if _, dup := demoScenarios[pack]; dup {
		panic("cli: demo for pack " + pack + " registered twice")
	}
	demoScenarios[pack] = newScenario
}

func demoPacks() []string {
	names := make([]string, 0, len(demoScenarios))
	for n := range demoScenarios {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func init() {
	register(&command{
		name:    "demo",
		summary: "run Accord with simulated partners, a shipped pack and live traffic",
		usage:   "[--pack support-escalation|crm-billing] [--addr host:port] [--db sqlite:PATH] [--rate 2] [--duration 0]",
		example: "go run ./cmd/accord demo --pack crm-billing",
		setup: func(fs *flag.FlagSet, env *Env) runFunc {
			o := demoOptions{}
			fs.StringVar(&o.pack, "pack", demoDefaultPack, "the pack to run: "+strings.Join(demoPacks(), ", "))
			fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "Accord's listen address")
			fs.StringVar(&o.db, "db", "", "database (default: sqlite:accord-demo.db in a fresh temporary directory)")
			fs.StringVar(&o.packs, "packs", "", "directory of packs added to the shipped ones (a pack of the same name replaces the shipped one)")
			fs.Float64Var(&o.rate, "rate", 2, "partner changes per second (support-escalation: tickets escalated; crm-billing: billing and CRM edits)")
			fs.Float64Var(&o.faultRate, "fault-rate", 0.05, "share of partner requests and webhooks hit by a random fault (429, 5xx, duplicate, reorder); 0 turns faults off")
			fs.DurationVar(&o.duration, "duration", 0, "stop by itself after this long (0: run until Ctrl-C)")
			fs.DurationVar(&o.every, "progress", 5*time.Second, "how often to print a progress line")
			fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory of the default database on exit")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return fmt.Errorf("unexpected arguments %q", args)
				}
				if o.rate <= 0 {
					return errors.New("--rate must be positive")
				}
				newScenario, ok := demoScenarios[o.pack]
				if !ok {
					return fmt.Errorf("--pack %q has no demo; choose one of %s", o.pack, strings.Join(demoPacks(), ", "))
				}
				return runDemo(ctx, env, o, newScenario())
			}
		},
	})
}

type demoOptions struct {
	pack, addr, db, packs string
	rate, faultRate       float64
	duration, every       time.Duration
	keep                  bool
}

// demo is what every scenario shares: the running Accord, its admin
// client, the demo tenant and the partners' URLs.
type demo struct {
	out    io.Writer
	o      demoOptions
	app    *app.App
	base   string
	admin  *api.Client
	tenant string
	urls   map[string]string // by variable: HELPDESK_URL…
}

func runDemo(ctx context.Context, env *Env, o demoOptions, sc demoScenario) (err error) {
	if o.db == "" {
		dir, err := os.MkdirTemp("", "accord-demo-")
		if err != nil {
			return fmt.Errorf("creating demo directory: %w", err)
		}
		o.db = "sqlite:" + filepath.Join(dir, "accord-demo.db")
		// Registered first, so it runs after Accord has stopped and
		// closed the database.
		defer func() {
			if o.keep {
				fmt.Fprintf(env.Stdout, "kept the demo's database in %s\n", dir)
				return
			}
			if rmErr := os.RemoveAll(dir); rmErr != nil {
				fmt.Fprintf(env.Stderr, "accord demo: removing %s: %v\n", dir, rmErr)
			}
		}()
	}
	d := &demo{out: env.Stdout, o: o, urls: map[string]string{}}

	// The partners first: Accord's connectors need their URLs.
	for _, p := range sc.partners(o) {
		u, err := p.srv.Start(ctx, "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer p.srv.Stop()
		d.urls[p.env] = u
	}

	cfg := config.Defaults()
	cfg.DB, cfg.Addr, cfg.Packs = o.db, o.addr, o.packs
	cfg.AllowLoopbackPartners = true
	cfg.AdminToken = demoAdminToken
	cfg.LogFormat, cfg.LogLevel = "text", "warn"
	if err := cfg.Validate(); err != nil {
		return err
	}
	logger := telemetry.NewLogger(env.Stderr, cfg.LogFormat, cfg.LogLevel)
	lookup := func(k string) (string, bool) {
		if v, ok := d.urls[k]; ok {
			return v, true
		}
		if env.Getenv != nil {
			return env.Getenv(k)
		}
		return "", false
	}
	d.app, err = app.New(ctx, cfg, logger, &app.Options{
		Build:  BuildInfo(),
		Engine: &engine.Config{Connector: &connector.Config{AllowLoopback: true, LookupEnv: lookup}},
	})
	if err != nil {
		return err
	}
	if err := d.app.Start(ctx); err != nil {
		_ = d.app.Stop(context.Background())
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if stopErr := d.app.Stop(stopCtx); stopErr != nil && err == nil {
			err = stopErr
		}
	}()
	d.base = "http://" + d.app.Addr()
	d.admin = &api.Client{BaseURL: d.base, Token: demoAdminToken}
	if err := d.createTenant(ctx); err != nil {
		return fmt.Errorf("creating the demo tenant: %w", err)
	}
	if err := sc.install(ctx, d); err != nil {
		return fmt.Errorf("installing the %s pack: %w", o.pack, err)
	}
	if o.faultRate > 0 {
		sc.faults(o.faultRate)
	}
	sc.welcome(d)

	// --duration counts the traffic, not the start-up: a loaded machine
	// that starts slowly still runs the demo as long as asked.
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc.traffic(ctx, d)
	}()
	t := time.NewTicker(o.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			<-done
			fmt.Fprintf(d.out, "\nstopping. %s\n", sc.progress(context.Background(), d))
			return nil
		case <-t.C:
			fmt.Fprintln(d.out, sc.progress(ctx, d))
		}
	}
}

// createTenant creates the demo tenant through the admin API.
func (d *demo) createTenant(ctx context.Context) error {
	d.tenant = demoTenant
	_, err := d.admin.CreateTenant(ctx, d.tenant, "Demo Co")
	var ce *api.ClientError
	if errors.As(err, &ce) && ce.Status == http.StatusConflict {
		// A reused --db: start a fresh tenant rather than reuse connections
		// that point at the previous run's simulators.
		d.tenant = fmt.Sprintf("%s-%d", demoTenant, time.Now().Unix())
		_, err = d.admin.CreateTenant(ctx, d.tenant, "Demo Co")
	}
	return err
}

// openRecordErrors lists the tenant's open record errors, or nil and
// false when the store does not answer in time.
func (d *demo) openRecordErrors(ctx context.Context) ([]store.RecordError, bool) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	list, err := d.app.Store.ListRecordErrors(ctx, d.tenant, store.RecordErrorFilter{Status: store.RecordErrorOpen, Limit: 1000})
	return list, err == nil
}

// inFlight is what Accord still holds (queued jobs, retries, Retry-After
// waits, events not yet handed to a worker), or "?".
func (d *demo) inFlight(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	depth, err := d.app.Queue.Depth(ctx)
	if err != nil {
		return "?"
	}
	pending, err := d.app.Store.ListPendingEvents(ctx, time.Now().Add(time.Hour), 10000)
	if err != nil {
		return "?"
	}
	return fmt.Sprint(depth + len(pending))
}
