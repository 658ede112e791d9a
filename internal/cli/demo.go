package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/accordhq/accord/internal/app"
	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/telemetry"
	"github.com/accordhq/accord/internal/web/api"
)

// Demo settings a user may want to type or script against.
const (
	demoAdminToken = "demo-admin-token"
	demoTenant     = "demo"
	demoSimToken   = "sim-token"
	// demoWebhookSecret signs the helpdesk's webhooks; the demo is local
	// only, so a fixed secret is fine and lets users replay a webhook.
	demoWebhookSecret = "demo-webhook-secret-change-me-in-production"
)

func init() {
	register(&command{
		name:    "demo",
		summary: "run Accord with simulated partners, the support-escalation pack and live traffic",
		usage:   "[--addr host:port] [--db sqlite:PATH] [--rate 2] [--duration 0]",
		example: "go run ./cmd/accord demo",
		setup: func(fs *flag.FlagSet, env *Env) runFunc {
			o := demoOptions{}
			fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "Accord's listen address")
			fs.StringVar(&o.db, "db", "", "database (default: sqlite:accord-demo.db in a fresh temporary directory)")
			fs.StringVar(&o.packs, "packs", "", "directory of packs added to the shipped ones (a pack of the same name replaces the shipped one)")
			fs.Float64Var(&o.rate, "rate", 2, "tickets escalated per second")
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
				return runDemo(ctx, env, o)
			}
		},
	})
}

type demoOptions struct {
	addr, db, packs string
	rate, faultRate float64
	duration, every time.Duration
	keep            bool
}

// demo is one running demo: Accord, the simulators and the tenant's ids.
type demo struct {
	out       io.Writer
	app       *app.App
	helpdesk  *sim.Helpdesk
	incidents *sim.Incidents
	chat      *sim.Chat
	tenant    string
	escalated atomic.Int64
}

func runDemo(ctx context.Context, env *Env, o demoOptions) (err error) {
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
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
	d := &demo{out: env.Stdout}

	// The partners first: Accord's connectors need their URLs.
	simCfg := &sim.Config{Token: demoSimToken}
	d.helpdesk, d.incidents, d.chat = sim.NewHelpdesk(simCfg), sim.NewIncidents(simCfg), sim.NewChat(simCfg)
	urls := map[string]string{}
	for _, s := range []struct {
		env string
		srv simulator
	}{{"HELPDESK_URL", d.helpdesk}, {"INCIDENTS_URL", d.incidents}, {"CHAT_URL", d.chat}} {
		u, err := s.srv.Start(ctx, "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer s.srv.Stop()
		urls[s.env] = u
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
		if v, ok := urls[k]; ok {
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
	base := "http://" + d.app.Addr()
	if err := d.install(ctx, base); err != nil {
		return fmt.Errorf("installing the support-escalation pack: %w", err)
	}
	if o.faultRate > 0 {
		// Errors are impossible here: the kinds are constants.
		_ = d.incidents.Random(o.faultRate, sim.FaultRateLimit, sim.FaultServerError)
		_ = d.chat.Random(o.faultRate, sim.FaultServerError)
		_ = d.helpdesk.Random(o.faultRate, sim.FaultDuplicate, sim.FaultReorder)
	}
	d.printWelcome(base, urls, o)

	done := make(chan struct{})
	go func() {
		defer close(done)
		d.traffic(ctx, o.rate)
	}()
	t := time.NewTicker(o.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			<-done
			fmt.Fprintf(d.out, "\nstopping. %s\n", d.progress(context.Background()))
			return nil
		case <-t.C:
			fmt.Fprintln(d.out, d.progress(ctx))
		}
	}
}

// install sets the demo tenant up through the admin API, as an operator
// would: the tenant, three API-key connections and the pack's contract.
func (d *demo) install(ctx context.Context, base string) error {
	c := &api.Client{BaseURL: base, Token: demoAdminToken}
	d.tenant = demoTenant
	_, err := c.CreateTenant(ctx, d.tenant, "Demo Co")
	var ce *api.ClientError
	if errors.As(err, &ce) && ce.Status == http.StatusConflict {
		// A reused --db: start a fresh tenant rather than reuse connections
		// that point at the previous run's simulators.
		d.tenant = fmt.Sprintf("%s-%d", demoTenant, time.Now().Unix())
		_, err = c.CreateTenant(ctx, d.tenant, "Demo Co")
	}
	if err != nil {
		return err
	}
	_, conns, err := c.InstallContract(ctx, d.tenant, "escalation", map[string]api.ConnectionInput{
		"helpdesk":  {APIKey: demoSimToken, WebhookSecret: demoWebhookSecret},
		"incidents": {APIKey: demoSimToken},
		"chat":      {APIKey: demoSimToken},
	})
	if err != nil {
		return err
	}
	d.helpdesk.Subscribe(base+conns["helpdesk"].HookPath, demoWebhookSecret)
	return nil
}

func (d *demo) printWelcome(base string, urls map[string]string, o demoOptions) {
	fmt.Fprintf(d.out, `Accord demo is running (database %s).

  Accord            %s
  Health page       %s/ui/t/%s/   (sign in with the token %s)
  Metrics           %s/metrics
  Admin API         %s/api/v1/tenants/%s/record-errors
                    (send Authorization: Bearer %s)
  Helpdesk sim      %s/tickets              (token %s)
  Incidents sim     %s/v1/incidents        (token %s)
  Chat sim          %s/v1/channels/escalations/messages  (token %s)

Every %.1fs a ticket is opened and escalated in the helpdesk; Accord turns each
escalation into one incident and one chat message. %.0f%% of partner calls and
webhooks get a fault (429, 5xx, duplicate or out-of-order delivery): watch
accord_action_retries_total{reason="retried"} and accord_webhooks_received_total{outcome="duplicate"}
in the metrics. "in flight" is what Accord still holds (retries, Retry-After waits);
once it drains, incidents and messages equal the escalations, never more.

Try:
  curl -H 'Authorization: Bearer %s' %s/api/v1/tenants/%s/record-errors
  curl -X POST %s/_sim/faults -d '{"faults":[{"kind":"403","count":3}]}'
then, once the faults are used up, retry the record error it filed (its id is in the list above):
  curl -X POST -H 'Authorization: Bearer %s' %s/api/v1/tenants/%s/record-errors/ID/retry

Ctrl-C stops everything.
`, o.db, base, base, d.tenant, demoAdminToken, base, base, d.tenant, demoAdminToken, urls["HELPDESK_URL"], demoSimToken,
		urls["INCIDENTS_URL"], demoSimToken, urls["CHAT_URL"], demoSimToken, 1/o.rate, o.faultRate*100,
		demoAdminToken, base, d.tenant, urls["INCIDENTS_URL"], demoAdminToken, base, d.tenant)
}

var (
	demoTitles = []string{
		"Checkout fails with 500", "Login loop on mobile", "Invoices show wrong currency",
		"Search returns nothing", "Webhook deliveries delayed", "Export to CSV times out",
	}
	demoPriorities = []string{"low", "med", "high"}
)

// traffic opens and escalates a ticket every 1/rate seconds until ctx ends.
func (d *demo) traffic(ctx context.Context, rate float64) {
	t := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer t.Stop()
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		tk, err := d.helpdesk.CreateTicket(sim.Ticket{
			Title:       fmt.Sprintf("%s (#%d)", demoTitles[rng.IntN(len(demoTitles))], n),
			Priority:    demoPriorities[rng.IntN(len(demoPriorities))],
			Description: "Reported by a customer through the demo traffic generator.",
			CustomerID:  fmt.Sprintf("cus_%03d", rng.IntN(200)),
		})
		if err != nil {
			continue
		}
		if _, err := d.helpdesk.Escalate(tk.ID); err == nil {
			d.escalated.Add(1)
		}
	}
}

// progress is the one-line summary printed every few seconds.
func (d *demo) progress(ctx context.Context) string {
	open := "?"
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if list, err := d.app.Store.ListRecordErrors(ctx, d.tenant, store.RecordErrorFilter{Status: store.RecordErrorOpen, Limit: 1000}); err == nil {
		open = fmt.Sprint(len(list))
	}
	inFlight := "?"
	if depth, err := d.app.Queue.Depth(ctx); err == nil {
		if pending, err := d.app.Store.ListPendingEvents(ctx, time.Now().Add(time.Hour), 10000); err == nil {
			inFlight = fmt.Sprint(depth + len(pending))
		}
	}
	return fmt.Sprintf("tickets escalated: %d, incidents created: %d, chat messages: %d, in flight: %s, record errors open: %s",
		d.escalated.Load(), d.incidents.Count(), len(d.chat.Messages("escalations")), inFlight, open)
}
