package ui_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/app"
	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/sim"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/web/api"
)

// The wizard and reconnect tests run a whole Accord (API, UI, engine,
// queue) with the shipped support-escalation pack against the partner
// simulators, on SQLite and, with ACCORD_TEST_POSTGRES, on PostgreSQL:
// what the browser enables must then deliver a real webhook end to end.

const (
	hdKey         = "hd-sim-key"
	incKey        = "inc-sim-key"
	chatKey       = "chat-sim-key"
	billingKey    = "billing-sim-key"
	crmKey        = "crm-sim-key"
	hookSecret    = "ui-test-webhook-signing-secret"
	demoPackTitle = "Escalate tickets to incidents"
)

// demo is one running Accord with its three simulated partners and tenant
// acme (no connection yet).
type demo struct {
	app       *app.App
	url       string
	helpdesk  *sim.Helpdesk
	incidents *sim.Incidents
	chat      *sim.Chat
	billing   *sim.Billing
	crm       *sim.CRM
	client    *api.Client
}

type quickRetry struct{}

func (quickRetry) NextRetry(*rivertype.JobRow) time.Time {
	return time.Now().Add(100 * time.Millisecond)
}

// startDemo starts the simulators and Accord on a fresh database of kind
// backend ("sqlite" or "postgres", which skips without
// ACCORD_TEST_POSTGRES).
func startDemo(t *testing.T, backend string) *demo {
	t.Helper()
	return startDemoWith(t, backend, nil)
}

// startDemoWith is startDemo with the process config adjusted by edit.
func startDemoWith(t *testing.T, backend string, edit func(cfg *config.Config)) *demo {
	t.Helper()
	key, err := credential.GenerateMasterKey()
	require.NoError(t, err)
	db := "sqlite:" + filepath.Join(t.TempDir(), "accord.db")
	if backend == "postgres" {
		dsn := os.Getenv("ACCORD_TEST_POSTGRES")
		if dsn == "" {
			t.Skip("set ACCORD_TEST_POSTGRES=postgres://… to run the PostgreSQL tests")
		}
		db = postgresSchema(t, dsn)
	}
	d := &demo{
		helpdesk:  sim.NewHelpdesk(&sim.Config{Token: hdKey, DeliveryBackoff: 50 * time.Millisecond}),
		incidents: sim.NewIncidents(&sim.Config{Token: incKey, RateLimit: -1}),
		chat:      sim.NewChat(&sim.Config{Token: chatKey}),
		billing:   sim.NewBilling(&sim.Config{Token: billingKey, RateLimit: -1}),
		crm:       sim.NewCRM(&sim.Config{Token: crmKey, RateLimit: -1}),
	}
	partners := map[string]string{}
	for env, s := range map[string]interface {
		Start(context.Context, string) (string, error)
		Stop()
	}{"HELPDESK_URL": d.helpdesk, "INCIDENTS_URL": d.incidents, "CHAT_URL": d.chat, "BILLING_URL": d.billing, "CRM_URL": d.crm} {
		u, err := s.Start(t.Context(), "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(s.Stop)
		partners[env] = u
		// The OAuth manager (connection tests) resolves base URLs from the
		// process environment, not from the connector's LookupEnv: set
		// both. t.Setenv also keeps parallel tests from running meanwhile.
		t.Setenv(env, u)
	}
	cfg := config.Defaults()
	cfg.DB, cfg.MasterKey, cfg.Addr = db, key, "127.0.0.1:0"
	cfg.AllowLoopbackPartners = true
	cfg.AdminToken = adminToken
	cfg.Workers = 20
	cfg.ShutdownTimeout = 5 * time.Second
	if edit != nil {
		edit(cfg)
	}
	require.NoError(t, cfg.Validate())
	d.app, err = app.New(t.Context(), cfg, slog.New(slog.DiscardHandler), &app.Options{
		Engine: &engine.Config{
			PauseInterval: 200 * time.Millisecond,
			Connector: &connector.Config{AllowLoopback: true, Timeout: 10 * time.Second,
				LookupEnv: func(k string) (string, bool) { v, ok := partners[k]; return v, ok }},
		},
		Queue: &queue.Config{FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond, RetryPolicy: quickRetry{}},
	})
	require.NoError(t, err)
	require.NoError(t, d.app.Start(t.Context()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, d.app.Stop(ctx))
	})
	d.url = "http://" + d.app.Addr()
	d.client = &api.Client{BaseURL: d.url, Token: adminToken}
	_, err = d.client.CreateTenant(t.Context(), "acme", "Acme Corp")
	require.NoError(t, err)
	return d
}

// postgresSchema creates a schema for one test and returns a DSN whose
// every connection uses it (the process configuration names a DSN only).
func postgresSchema(t *testing.T, dsn string) string {
	t.Helper()
	ctx := context.Background()
	var b [8]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	schema := "accord_ui_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
	require.NoError(t, err)
	// Registered before the app starts, so it runs after the app stops.
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("options", "-csearch_path="+schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// escalate opens and escalates a ticket in the helpdesk.
func (d *demo) escalate(t *testing.T, title string) sim.Ticket {
	t.Helper()
	tk, err := d.helpdesk.CreateTicket(sim.Ticket{Title: title, Priority: "high", Description: "from the browser test"})
	require.NoError(t, err)
	tk, err = d.helpdesk.Escalate(tk.ID)
	require.NoError(t, err)
	return tk
}

// waitFor polls cond until it holds; it fails after 30 s without it.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// incidentFor waits for the incident of ticket id.
func (d *demo) incidentFor(t *testing.T, id string) sim.Incident {
	t.Helper()
	var got sim.Incident
	waitFor(t, "the incident of ticket "+id, func() bool {
		for _, in := range d.incidents.Incidents() {
			if in.ExternalID == id {
				got = in
				return true
			}
		}
		return false
	})
	return got
}

// submit clicks sel and waits for the page the form leads to.
func submit(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	_, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	require.NoError(t, err, "submitting %s", sel)
}

func backendsUnderTest(t *testing.T, fn func(t *testing.T, backend string)) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { fn(t, backend) })
	}
}

func TestBrowserSetupWizard(t *testing.T) {
	backendsUnderTest(t, func(t *testing.T, backend string) {
		ctx := tab(t)
		d := startDemo(t, backend)
		shot := func(name string) { screenshot(t, ctx, "wizard-"+backend+"-"+name) }
		signIn(t, ctx, &bundle{url: d.url}, adminToken)
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(d.url+"/ui/t/acme/"), chromedp.WaitVisible(chromedp.ID("setup"))))
		submit(t, ctx, "#setup")
		require.Contains(t, mainText(t, ctx), demoPackTitle)
		submit(t, ctx, `a[href="/ui/t/acme/setup/escalation"]`)

		// 1: what it will do, and the permissions with their descriptions.
		text := mainText(t, ctx)
		for _, want := range []string{"When a ticket in Helpdesk changes to Escalated, Accord creates an incident in Incidents",
			"Read tickets", "Create and update incidents", "Post messages to channels"} {
			require.Contains(t, text, want)
		}
		shot("1-about")
		submit(t, ctx, "#next")

		// 2: connect the three accounts with the simulators' keys.
		for _, c := range []struct{ provider, key string }{{"helpdesk", hdKey}, {"incidents", incKey}, {"chat", chatKey}} {
			require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("key-"+c.provider), c.key)))
			if c.provider == "helpdesk" {
				require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("secret-helpdesk"), hookSecret)))
			}
			submit(t, ctx, `button[value="connect:`+c.provider+`"]`)
			require.Contains(t, mainText(t, ctx), "is connected.")
		}
		text = mainText(t, ctx)
		require.NotContains(t, text, incKey)
		shot("2-connect")
		submit(t, ctx, "#next")

		// 3: the fields, previewed on the sample record.
		text = mainText(t, ctx)
		require.Contains(t, text, "When it happens, we will create an incident in Incidents with these fields")
		require.Contains(t, text, "ticket.priority (through its value map)")
		shot("3-fields")
		// The tenant's own choices where the contract allows them: a title
		// prefix and a fixed severity, checked and previewed.
		require.NoError(t, chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS(`[name="ov:create_incident.title"]`), `"[Acme] " + ticket.titel`),
			chromedp.SetValue(chromedp.CSS(`[name="ov:create_incident.severity"]`), "2")))
		// Checked as it is typed (the page's script posts the form after a
		// pause and swaps in the answer's messages and preview).
		waitFor(t, "the typed expression to be refused beside its field", func() bool {
			return strings.Contains(mainText(t, ctx), "ticket has no field titel; did you mean title?")
		})
		shot("3-fields-refused")
		// The script rewrote parts of the page: clear the field in the page
		// itself rather than through a node id chromedp may hold stale.
		_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('[name="ov:create_incident.title"]').value = ''; true`))
		require.NoError(t, err)
		require.NoError(t, chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS(`[name="ov:create_incident.title"]`), `"[Acme] " + ticket.title`)))
		waitFor(t, "the preview to write the override", func() bool {
			text := mainText(t, ctx)
			return strings.Contains(text, `"[Acme] Sample title"`) && !strings.Contains(text, "ticket has no field titel")
		})
		// Without script the button does the same in a page load.
		submit(t, ctx, "#update-preview")
		text = mainText(t, ctx)
		require.NotContains(t, text, "Some choices cannot be used")
		require.Contains(t, text, `"[Acme] Sample title"`, "the preview writes the override")
		shot("3-fields-overridden")
		// At phone width nothing scrolls sideways but the code boxes.
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)))
		fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
		require.NoError(t, err)
		require.True(t, fits, "the fields step fits a 390px screen")
		shot("3-fields-phone")
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)))
		submit(t, ctx, "#next")

		// 4: the test calls reach the simulators.
		submit(t, ctx, "#run-tests")
		text = mainText(t, ctx)
		require.Contains(t, text, "Helpdesk accepted the credentials.")
		require.Contains(t, text, "Incidents accepted the credentials.")
		shot("4-test")
		submit(t, ctx, "#next")

		// 5: the dry run shows the requests; nothing reached a partner.
		text = mainText(t, ctx)
		require.Contains(t, text, "POST /v1/incidents")
		require.Contains(t, text, "nothing is sent to any partner and nothing is stored")
		require.Zero(t, d.incidents.Count())
		shot("5-event")
		// A real test event: one incident at the partner, shown with its
		// id and labelled a test; a second click sends nothing again.
		submit(t, ctx, "#send-test")
		text = mainText(t, ctx)
		require.Equal(t, 1, d.incidents.Count(), text)
		testInc := d.incidents.Incidents()[0]
		require.Contains(t, text, "Test event applied")
		require.Contains(t, text, "incidents.incident "+testInc.ID)
		require.Equal(t, "[Acme] Sample title", testInc.Title, "the test event goes through the chosen overrides")
		shot("5-event-sent")
		submit(t, ctx, "#send-test")
		text = mainText(t, ctx)
		require.Contains(t, text, "This exact sample was sent before")
		require.Contains(t, text, testInc.ID)
		require.Equal(t, 1, d.incidents.Count(), "a second click leaves no duplicate")
		shot("5-event-again")
		submit(t, ctx, "#next")

		// 6: confirm and enable.
		require.Contains(t, mainText(t, ctx), "records your consent")
		shot("6-confirm")
		submit(t, ctx, "#enable")
		var hook string
		require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("installed"))))
		hook, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#installed code.hook")))
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(hook, d.url+"/hooks/conn_"), hook)
		shot("enabled")

		// The tenant points the helpdesk's webhooks at Accord; an escalation
		// then becomes an incident.
		d.helpdesk.Subscribe(hook, hookSecret)
		tk := d.escalate(t, "Checkout fails for every card")
		inc := d.incidentFor(t, tk.ID)
		require.Equal(t, 2, inc.Severity, "the severity chosen in the wizard, not high → 1")
		require.Equal(t, "[Acme] Checkout fails for every card", inc.Title, "the title expression written in the wizard")
		waitFor(t, "the chat message", func() bool { return len(d.chat.Messages("escalations")) == 2 }) // the test's and this one
		waitFor(t, "the health page to show the delivery", func() bool {
			require.NoError(t, chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("rates"))))
			return strings.Contains(mainText(t, ctx), "100.0%")
		})
		shot("delivered")
	})
}

func TestBrowserReconnectAfterRevokedToken(t *testing.T) {
	backendsUnderTest(t, func(t *testing.T, backend string) {
		ctx := tab(t)
		d := startDemo(t, backend)
		inst, conns, err := d.client.InstallContract(t.Context(), "acme", "escalation", map[string]api.ConnectionInput{
			"helpdesk": {APIKey: hdKey, WebhookSecret: hookSecret}, "incidents": {APIKey: incKey}, "chat": {APIKey: chatKey}})
		require.NoError(t, err)
		d.helpdesk.Subscribe(d.url+conns["helpdesk"].HookPath, hookSecret)
		incID := conns["incidents"].ID

		// Incidents revokes Accord's token: the next write is refused and
		// the connection needs reconnecting; the write is held.
		d.incidents.RevokeToken(incKey)
		tk := d.escalate(t, "Refunds stuck")
		waitFor(t, "the incidents connection to need a reconnect", func() bool {
			c, err := d.app.Store.GetConnection(t.Context(), "acme", incID)
			require.NoError(t, err)
			return c.State == store.ConnectionNeedsReconnect
		})

		signIn(t, ctx, &bundle{url: d.url}, adminToken)
		page := d.url + "/ui/t/acme/installations/" + inst.ID
		button := `form[action="/ui/t/acme/connections/` + incID + `/reconnect"] button`
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(button))))
		require.Contains(t, mainText(t, ctx), "needs reconnect")
		screenshot(t, ctx, "reconnect-"+backend+"-needed")

		// The tenant gets a new key at Incidents and pastes it in.
		d.incidents.GrantScope("inc-sim-key-2", sim.ScopeIncidentsRead)
		d.incidents.GrantScope("inc-sim-key-2", sim.ScopeIncidentsWrite)
		submit(t, ctx, button)
		require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("api_key"))))
		screenshot(t, ctx, "reconnect-"+backend+"-form")
		require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("api_key"), "inc-sim-key-2")))
		submit(t, ctx, "#reconnect-save")
		loc, err := chromedp.Run(ctx, chromedp.Location())
		require.NoError(t, err)
		require.Equal(t, page, loc, "back on the health page")

		// The held write goes through, and the page turns healthy.
		inc := d.incidentFor(t, tk.ID)
		require.Equal(t, "Refunds stuck", inc.Title)
		waitFor(t, "the health page to turn healthy", func() bool {
			require.NoError(t, chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("rates"))))
			n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('form[action$="/reconnect"]').length`))
			require.NoError(t, err)
			return n == 0 && strings.Contains(mainText(t, ctx), "Healthy")
		})
		screenshot(t, ctx, "reconnect-"+backend+"-healthy")
		c, err := d.app.Store.GetConnection(t.Context(), "acme", incID)
		require.NoError(t, err)
		require.Equal(t, store.ConnectionActive, c.State)
	})
}
