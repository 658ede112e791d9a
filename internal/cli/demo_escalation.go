package cli

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/web/api"
)

func init() {
	registerDemo(demoDefaultPack, func() demoScenario { return &escalationDemo{} })
}

// escalationDemo runs the support-escalation pack: tickets escalated in
// the helpdesk become incidents and chat messages.
type escalationDemo struct {
	helpdesk  *sim.Helpdesk
	incidents *sim.Incidents
	chat      *sim.Chat
	escalated atomic.Int64
}

func (e *escalationDemo) partners(demoOptions) []demoPartner {
	cfg := &sim.Config{Token: demoSimToken}
	e.helpdesk, e.incidents, e.chat = sim.NewHelpdesk(cfg), sim.NewIncidents(cfg), sim.NewChat(cfg)
	return []demoPartner{{"HELPDESK_URL", e.helpdesk}, {"INCIDENTS_URL", e.incidents}, {"CHAT_URL", e.chat}}
}

// install: three API-key connections and the pack's contract; the
// helpdesk's webhooks go to Accord.
func (e *escalationDemo) install(ctx context.Context, d *demo) error {
	_, conns, err := d.admin.InstallContract(ctx, d.tenant, "escalation", map[string]api.ConnectionInput{
		"helpdesk":  {APIKey: demoSimToken, WebhookSecret: demoWebhookSecret},
		"incidents": {APIKey: demoSimToken},
		"chat":      {APIKey: demoSimToken},
	})
	if err != nil {
		return err
	}
	e.helpdesk.Subscribe(d.base+conns["helpdesk"].HookPath, demoWebhookSecret)
	return nil
}

func (e *escalationDemo) faults(rate float64) {
	// Errors are impossible here: the kinds are constants.
	_ = e.incidents.Random(rate, sim.FaultRateLimit, sim.FaultServerError)
	_ = e.chat.Random(rate, sim.FaultServerError)
	_ = e.helpdesk.Random(rate, sim.FaultDuplicate, sim.FaultReorder)
}

func (e *escalationDemo) welcome(d *demo) {
	base, o := d.base, d.o
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
`, o.db, base, base, d.tenant, demoAdminToken, base, base, d.tenant, demoAdminToken, d.urls["HELPDESK_URL"], demoSimToken,
		d.urls["INCIDENTS_URL"], demoSimToken, d.urls["CHAT_URL"], demoSimToken, 1/o.rate, o.faultRate*100,
		demoAdminToken, base, d.tenant, d.urls["INCIDENTS_URL"], demoAdminToken, base, d.tenant)
}

var (
	demoTitles = []string{
		"Checkout fails with 500", "Login loop on mobile", "Invoices show wrong currency",
		"Search returns nothing", "Webhook deliveries delayed", "Export to CSV times out",
	}
	demoPriorities = []string{"low", "med", "high"}
)

// traffic opens and escalates a ticket every 1/rate seconds until ctx ends.
func (e *escalationDemo) traffic(ctx context.Context, d *demo) {
	t := time.NewTicker(time.Duration(float64(time.Second) / d.o.rate))
	defer t.Stop()
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		tk, err := e.helpdesk.CreateTicket(sim.Ticket{
			Title:       fmt.Sprintf("%s (#%d)", demoTitles[rng.IntN(len(demoTitles))], n),
			Priority:    demoPriorities[rng.IntN(len(demoPriorities))],
			Description: "Reported by a customer through the demo traffic generator.",
			CustomerID:  fmt.Sprintf("cus_%03d", rng.IntN(200)),
		})
		if err != nil {
			continue
		}
		if _, err := e.helpdesk.Escalate(tk.ID); err == nil {
			e.escalated.Add(1)
		}
	}
}

func (e *escalationDemo) progress(ctx context.Context, d *demo) string {
	open := "?"
	if list, ok := d.openRecordErrors(ctx); ok {
		open = fmt.Sprint(len(list))
	}
	return fmt.Sprintf("tickets escalated: %d, incidents created: %d, chat messages: %d, in flight: %s, record errors open: %s",
		e.escalated.Load(), e.incidents.Count(), len(e.chat.Messages("escalations")), d.inFlight(ctx), open)
}
