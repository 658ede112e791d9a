package ui

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/review"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/web/api"
)

// The setup wizard installs a catalog contract for a tenant in six steps.
// Its state (the contract, the step, the connections chosen, whether they
// passed their tests) travels in a signed form field bound to the
// session: it holds ids only, never a credential, and every id in it is
// checked again against the tenant's rows when used. A secret typed into a
// form goes straight to the vault and is never written back into a page.

const (
	setupPurpose = "ui-setup"
	// setupTTL bounds how long a wizard can be left open: its consent
	// text must not be from another day's catalog.
	setupTTL = 2 * time.Hour
)

// Steps of the wizard, in order.
const (
	stepAbout = iota + 1
	stepConnect
	stepFields
	stepTest
	stepEvent
	stepConfirm
)

var stepTitles = []string{stepAbout: "What it does", stepConnect: "Connect accounts", stepFields: "Fields",
	stepTest: "Test connections", stepEvent: "Test event", stepConfirm: "Confirm and enable"}

// setupState is the wizard's signed state.
type setupState struct {
	Tenant   string            `json:"t"`
	Contract string            `json:"c"`
	Version  string            `json:"v"`
	Step     int               `json:"p"`
	Conns    map[string]string `json:"n,omitempty"`
	// Tested: every connection in Conns passed its test (or names none).
	Tested bool `json:"k,omitempty"`
	// Overrides are the fields step's choices, checked when made and
	// again by the install.
	Overrides spec.Overrides `json:"o"`
	// Browser names the provider whose consent page the wizard sent the
	// browser to, at BrowserAt (Unix seconds): on the way back, the
	// connection that flow created is the one chosen.
	Browser   string `json:"x,omitempty"`
	BrowserAt int64  `json:"xt,omitempty"`
	// Inst is the installation the test step created in state setup
	// (see API.CreateSetup); enabling turns it on.
	Inst string `json:"i,omitempty"`
	// Bind ties the state to the session that made it.
	Bind string `json:"b"`
	Exp  int64  `json:"e"`
}

// setupBind is the session's binding: a MAC of its CSRF token, so the
// token itself never travels in the state (which may sit in a URL on the
// way back from a provider's consent page).
func (u *UI) setupBind(v *view) string {
	return base64.RawURLEncoding.EncodeToString(u.deps.Signer.Mac(setupPurpose, []byte(v.CSRF))[:12])
}

func (u *UI) sealSetup(v *view, st setupState) (string, error) {
	st.Bind, st.Exp = u.setupBind(v), u.deps.Now().Add(setupTTL).Unix()
	return u.deps.Signer.Seal(setupPurpose, st)
}

var errSetupExpired = &pageError{Status: http.StatusBadRequest,
	Msg: "This setup expired or was started in another session. Start it again from the list of integrations."}

// openSetup checks a sealed state against the session, tenant and contract
// of the request.
func (u *UI) openSetup(v *view, contract, sealed string) (setupState, error) {
	var st setupState
	if sealed == "" || u.deps.Signer.Open(setupPurpose, sealed, &st) != nil {
		return st, errSetupExpired
	}
	if !hmac.Equal([]byte(st.Bind), []byte(u.setupBind(v))) || st.Tenant != v.Tenant || st.Contract != contract ||
		!u.deps.Now().Before(time.Unix(st.Exp, 0)) {
		return st, errSetupExpired
	}
	if st.Conns == nil {
		st.Conns = map[string]string{}
	}
	return st, nil
}

// setupCatalog lists the contracts a tenant may install.
func (u *UI) setupCatalog(w http.ResponseWriter, r *http.Request, v *view) error {
	t, err := u.deps.Store.GetTenant(r.Context(), v.Tenant)
	if err != nil {
		return err
	}
	insts, err := u.deps.Store.ListInstallations(r.Context(), v.Tenant)
	if err != nil {
		return err
	}
	installed := map[string]int{}
	for _, in := range insts {
		if in.State == store.InstallationActive || in.State == store.InstallationPaused {
			installed[in.Contract]++ // one being set up is not installed yet
		}
	}
	var list []review.Contract
	for _, name := range u.deps.API.CatalogNames() {
		_, d, _ := u.deps.API.CatalogContract(name)
		list = append(list, d)
	}
	v.Title = "Set up an integration for " + t.Name
	u.render(w, r, http.StatusOK, "setup_catalog", v, map[string]any{"Contracts": list, "Installed": installed,
		"CanWrite": v.P.CanWrite(v.Tenant)})
	return nil
}

// setupStart opens the wizard: at its first step, or where a signed state
// in ?w= left it (the way back from a provider's consent page).
func (u *UI) setupStart(w http.ResponseWriter, r *http.Request, v *view) error {
	name := r.PathValue("contract")
	c, _, ok := u.deps.API.CatalogContract(name)
	if !ok {
		return &pageError{Status: http.StatusNotFound, Msg: "There is no integration " + name + " in the catalog."}
	}
	if _, err := u.deps.Store.GetTenant(r.Context(), v.Tenant); err != nil {
		return err
	}
	st := setupState{Tenant: v.Tenant, Contract: c.Name, Version: c.Version, Step: stepAbout, Conns: map[string]string{}}
	var f setupForm
	if sealed := r.URL.Query().Get("w"); sealed != "" && v.P.CanWrite(v.Tenant) {
		var err error
		if st, err = u.openSetup(v, name, sealed); err != nil {
			return err
		}
		if st.Browser != "" {
			f.Notice = u.adoptBrowserConnection(r, v, &st)
		}
	}
	return u.renderSetup(w, r, v, http.StatusOK, st, f)
}

// setupForm is what the admin typed that is not state: the sample record
// and its event type, and the last action's outcome.
type setupForm struct {
	Sample    string
	EventType string
	// Error is the page-level problem; FieldErrors are keyed by provider
	// (the connect forms).
	Error       string
	FieldErrors map[string]string
	Notice      string
	Tests       []connTest
	// Overrides is what the fields step's form held, by row key, and
	// OverrideErrors why a value was refused (key "": the triggers).
	Overrides      map[string]string
	OverrideErrors map[string]string
	// Sent is the test event's result on step 5, Synced the test sync's
	// (of SyncObject by SyncTrigger), SyncError why it could not run.
	Sent, Synced            *engine.TestResult
	SyncTrigger, SyncObject string
	SyncError               string
	// Secrets are webhook signing secrets Accord generated on this very
	// request, by provider: shown this once, to paste at the partner.
	Secrets map[string]string
}

// setupStep performs one action of the wizard and shows the step it
// leads to. Every action is a POST: it needs write access to the tenant
// and the session's CSRF token (checked before this runs).
func (u *UI) setupStep(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	name := r.PathValue("contract")
	c, _, ok := u.deps.API.CatalogContract(name)
	if !ok {
		return &pageError{Status: http.StatusNotFound, Msg: "There is no integration " + name + " in the catalog."}
	}
	st, err := u.openSetup(v, name, r.PostFormValue("w"))
	if err != nil {
		return err
	}
	if st.Version != c.Version {
		return &pageError{Status: http.StatusConflict, Msg: fmt.Sprintf(
			"%s was updated (version %s to %s) while you were setting it up: start again, so you agree to what it now asks.", c.Title, st.Version, c.Version)}
	}
	f := setupForm{Sample: r.PostFormValue("sample"), EventType: r.PostFormValue("event_type"), FieldErrors: map[string]string{}}
	if len(f.Sample) > maxSample {
		return &pageError{Status: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("The sample record is larger than %d KiB: shorten it.", maxSample>>10)}
	}
	action, arg, _ := strings.Cut(r.PostFormValue("action"), ":")
	if r.PostFormValue(overridesFormMarker) == "1" {
		// Any button of the fields step (update the preview, back,
		// continue) keeps its choices, and none leaves with a refused one.
		o, raw := readOverrides(r, c, u.deps.Providers)
		if probs := c.CheckOverrides(u.deps.Providers, o); len(probs) > 0 {
			f.Overrides, f.OverrideErrors = raw, overrideErrors(probs)
			f.Error = "Some choices cannot be used: fix them below. Nothing else changed."
			st.Step = stepFields
			return u.renderSetup(w, r, v, http.StatusUnprocessableEntity, st, f)
		}
		st.Overrides = o
	}
	if (action == "connect" || action == "use" || action == "browser") && !slices.Contains(c.Providers, arg) {
		return &pageError{Status: http.StatusBadRequest, Msg: c.Title + " does not use " + arg + "."}
	}
	status := http.StatusOK
	switch action {
	case "goto":
		to, err := strconv.Atoi(arg)
		if err != nil || to < stepAbout || to > stepConfirm {
			return &pageError{Status: http.StatusBadRequest, Msg: "There is no such step."}
		}
		if msg := u.setupBlocked(c, st, to); msg != "" {
			f.Error, status = msg, http.StatusUnprocessableEntity
			break
		}
		st.Step = to
	case "connect":
		st.Step = stepConnect
		if msg, secret := u.setupConnect(r, v, c, &st, arg); msg != "" {
			f.FieldErrors[arg], status = msg, http.StatusUnprocessableEntity
		} else {
			f.Notice = u.providerTitle(arg) + " is connected."
			if secret != "" {
				f.Secrets = map[string]string{arg: secret}
			}
		}
	case "use":
		st.Step = stepConnect
		conn, err := u.deps.Store.GetConnection(ctx, v.Tenant, r.PostFormValue("connection"))
		if err != nil || conn.Provider != arg || !slices.Contains(c.Providers, arg) {
			f.FieldErrors[arg], status = "Choose one of this tenant's "+u.providerTitle(arg)+" connections.", http.StatusUnprocessableEntity
			break
		}
		st.Conns[arg], st.Tested = conn.ID, false
		f.Notice = u.providerTitle(arg) + " will use the connection you chose."
	case "browser":
		st.Step = stepConnect
		to, msg := u.setupBrowser(r, v, c, st, arg)
		if msg != "" {
			f.FieldErrors[arg], status = msg, http.StatusUnprocessableEntity
			break
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return nil
	case "test":
		st.Step = stepTest
		if msg := u.setupBlocked(c, st, stepTest); msg != "" {
			st.Step, f.Error, status = stepConnect, msg, http.StatusUnprocessableEntity
			break
		}
		f.Tests = u.testConnections(r, c, st)
		st.Tested = !slices.ContainsFunc(f.Tests, func(t connTest) bool { return t.Failed })
	case "send-test":
		st.Step = stepEvent
		if msg := u.setupBlocked(c, st, stepConfirm); msg != "" {
			f.Error, status = msg, http.StatusUnprocessableEntity
			break
		}
		res, msg := u.setupSendTest(r, v, c, &st, f)
		if msg != "" {
			f.Error, status = msg, http.StatusUnprocessableEntity
			break
		}
		f.Sent = &res
	case "test-sync":
		st.Step = stepEvent
		f.SyncTrigger, f.SyncObject = r.PostFormValue("sync_trigger"), strings.TrimSpace(r.PostFormValue("sync_object_id"))
		if msg := u.setupBlocked(c, st, stepConfirm); msg != "" {
			f.Error, status = msg, http.StatusUnprocessableEntity
			break
		}
		res, msg := u.setupTestSync(r, v, c, &st, f)
		if msg != "" {
			f.SyncError, status = msg, http.StatusUnprocessableEntity
			break
		}
		f.Synced = &res
	case "enable":
		if msg := u.setupBlocked(c, st, stepConfirm); msg != "" {
			f.Error, status = msg, http.StatusUnprocessableEntity
			break
		}
		in := api.InstallationInput{Contract: c.Name, Connections: st.Conns, ConsentedBy: v.P.Actor}
		if !st.Overrides.Empty() {
			in.Overrides = &st.Overrides
		}
		var inst store.Installation
		if st.Inst != "" {
			inst, err = u.deps.API.Enable(ctx, v.Tenant, st.Inst, in)
		} else {
			inst, err = u.deps.API.Install(ctx, v.Tenant, in)
		}
		var ae *api.Error
		if errors.As(err, &ae) {
			// A connection changed under the wizard (another tab): say so
			// on the confirm step rather than on an error page.
			f.Error, status = ae.Msg, ae.Status
			break
		}
		if err != nil {
			return err
		}
		// The consent entry names who; this one adds from where.
		u.audit(r, v, v.Tenant, "installation.enabled", inst.ID, map[string]any{"contract": inst.Contract,
			"contract_version": inst.ContractVersion})
		http.Redirect(w, r, tenantURL(v.Tenant)+"installations/"+url.PathEscape(inst.ID)+"?installed=1", http.StatusSeeOther)
		return nil
	default:
		return &pageError{Status: http.StatusBadRequest, Msg: "This form sent no action this page knows."}
	}
	return u.renderSetup(w, r, v, status, st, f)
}

// setupBlocked says why step to cannot be shown yet ("" when it can).
func (u *UI) setupBlocked(c *spec.Contract, st setupState, to int) string {
	if to >= stepFields {
		var missing []string
		for _, p := range c.Providers {
			if st.Conns[p] == "" {
				missing = append(missing, u.providerTitle(p))
			}
		}
		if len(missing) > 0 {
			return "Connect " + strings.Join(missing, ", ") + " first: the integration needs every account it uses."
		}
	}
	if to >= stepConfirm && !st.Tested {
		return "Test the connections first: enabling waits until every connection works."
	}
	return ""
}

// setupConnect creates an API-key, bearer or basic connection for
// provider from the form, through the same code as the admin API. It
// returns the problem to show beside the form, "" on success, and the
// webhook signing secret Accord generated for it, if it did.
func (u *UI) setupConnect(r *http.Request, v *view, c *spec.Contract, st *setupState, provider string) (string, string) {
	p := u.deps.Providers[provider]
	if p == nil || !slices.Contains(c.Providers, provider) {
		return "This integration does not use " + provider + ".", ""
	}
	in := api.ConnectionInput{Provider: provider, APIKey: strings.TrimSpace(r.PostFormValue("api_key")),
		Username: r.PostFormValue("username"), Password: r.PostFormValue("password"),
		WebhookSecret: strings.TrimSpace(r.PostFormValue("webhook_secret"))}
	switch p.Auth.Kind {
	case spec.AuthBasic:
		if in.Username == "" || in.Password == "" {
			return "Enter the username and the password of the " + u.providerTitle(provider) + " account.", ""
		}
	case spec.AuthAPIKey, spec.AuthBearer:
		if in.APIKey == "" {
			return "Enter the API key of the " + u.providerTitle(provider) + " account.", ""
		}
	default:
		return u.providerTitle(provider) + " does not connect with a key.", ""
	}
	generates := p.Webhooks.GeneratesManualSecret() && in.WebhookSecret == ""
	if sendsEvents(c, provider) && !generates && len(in.WebhookSecret) < minWebhookSecret {
		return fmt.Sprintf("Enter the webhook signing secret %s shows for its webhooks (at least %d characters): Accord refuses every webhook it cannot verify.",
			u.providerTitle(provider), minWebhookSecret), ""
	}
	conn, err := u.deps.API.CreateConnection(r.Context(), v.Tenant, v.P.Actor, in)
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae.Msg, ""
	}
	if err != nil {
		u.deps.Logger.ErrorContext(r.Context(), "ui: creating a connection failed", "tenant_id", v.Tenant, "provider", provider, "err", err)
		return "The connection could not be saved. Try again; if it persists, tell your operator.", ""
	}
	st.Conns[provider], st.Tested = conn.ID, false
	return "", conn.WebhookSecret
}

// maxSample bounds the sample record a form may carry.
const maxSample = 64 << 10

// minWebhookSecret is the shortest webhook signing secret accepted: a
// guessable one would let anyone forge events.
const minWebhookSecret = 16

// setupBrowser starts an OAuth connection for provider; its consent page
// sends the browser back to this step with the state signed into the URL.
func (u *UI) setupBrowser(r *http.Request, v *view, c *spec.Contract, st setupState, provider string) (string, string) {
	if !slices.Contains(c.Providers, provider) {
		return "", "This integration does not use " + provider + "."
	}
	if u.deps.ConnectBrowser == nil {
		return "", "This server cannot start a browser sign-in: ask your operator to connect " + u.providerTitle(provider) + "."
	}
	st.Step = stepConnect
	st.Browser, st.BrowserAt = provider, u.deps.Now().Unix()
	sealed, err := u.sealSetup(v, st)
	if err != nil {
		return "", "The sign-in could not be started. Try again."
	}
	back := u.baseURL(r) + tenantURL(v.Tenant) + "setup/" + url.PathEscape(c.Name) + "?w=" + url.QueryEscape(sealed)
	to, err := u.deps.ConnectBrowser(r.Context(), v.Tenant, provider, back)
	if errors.Is(err, ErrNoBrowserReconnect) {
		return "", u.providerTitle(provider) + " does not connect through the browser."
	}
	if err != nil {
		u.deps.Logger.ErrorContext(r.Context(), "ui: starting a browser connection failed", "tenant_id", v.Tenant, "provider", provider, "err", err)
		return "", "The sign-in could not be started. Try again; if it persists, tell your operator."
	}
	if !safeRedirect(to) {
		return "", "The sign-in returned no usable address."
	}
	u.audit(r, v, v.Tenant, "connection.connect_started", provider, map[string]any{"provider": provider})
	return to, ""
}

// adoptBrowserConnection chooses, on the way back from a consent page,
// the connection that sign-in created: the tenant's newest connection to
// that provider made since the wizard sent the browser away. It returns
// the notice to show ("" when there is none: the sign-in was abandoned or
// refused, and the consent page said why).
func (u *UI) adoptBrowserConnection(r *http.Request, v *view, st *setupState) string {
	provider, since := st.Browser, time.Unix(st.BrowserAt, 0)
	st.Browser, st.BrowserAt = "", 0
	conns, err := u.deps.Store.ListConnections(r.Context(), v.Tenant)
	if err != nil {
		u.deps.Logger.ErrorContext(r.Context(), "ui: listing connections failed", "tenant_id", v.Tenant, "err", err)
		return ""
	}
	var newest *store.Connection
	for i, c := range conns {
		// Seconds: the state keeps whole seconds.
		if c.Provider != provider || c.State == store.ConnectionDisconnected || c.CreatedAt.Before(since.Add(-time.Second)) {
			continue
		}
		if newest == nil || c.CreatedAt.After(newest.CreatedAt) {
			newest = &conns[i]
		}
	}
	if newest == nil {
		return ""
	}
	st.Conns[provider], st.Tested = newest.ID, false
	return u.providerTitle(provider) + " is connected."
}

// baseURL is the address browsers reach this server at: public_url, else
// the request's own host.
func (u *UI) baseURL(r *http.Request) string {
	if u.cfg.PublicURL != "" {
		return strings.TrimRight(u.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// sendsEvents reports whether provider is the source of one of c's webhook
// triggers.
func sendsEvents(c *spec.Contract, provider string) bool {
	for _, t := range c.Triggers {
		if t != nil && t.Webhook != nil && t.Webhook.Provider == provider {
			return true
		}
	}
	return false
}

// connTest is one connection's test on step 4.
type connTest struct {
	Provider string
	Failed   bool
	Skipped  bool
	Msg      string
	State    store.ConnectionState
}

// testConnections makes each chosen connection's test call, as POST
// …/connections/{id}/test does.
func (u *UI) testConnections(r *http.Request, c *spec.Contract, st setupState) []connTest {
	var out []connTest
	for _, name := range c.Providers {
		t := connTest{Provider: u.providerTitle(name)}
		p := u.deps.Providers[name]
		switch {
		case u.deps.TestConnection == nil:
			t.Skipped, t.Msg = true, "This server cannot test connections: the first write checks it."
		case p == nil || p.Auth.Test == nil:
			t.Skipped, t.Msg = true, t.Provider+" names no test call: the first write checks the credentials."
		default:
			if err := u.deps.TestConnection(r.Context(), st.Tenant, st.Conns[name]); err != nil {
				t.Failed, t.Msg = true, api.TestFailure(t.Provider, err)
			} else {
				t.Msg = t.Provider + " accepted the credentials."
			}
		}
		if conn, err := u.deps.Store.GetConnection(r.Context(), st.Tenant, st.Conns[name]); err == nil {
			t.State = conn.State
		}
		out = append(out, t)
	}
	return out
}

// setupProvider is one account the contract needs, on step 2 and 6.
type setupProvider struct {
	Name, Title, AuthKind string
	Permissions           []review.Permission
	Conn                  *store.Connection
	// Existing are the tenant's other connections to this provider.
	Existing []store.Connection
	// Events: the provider sends the webhooks the contract acts on; HookURL
	// is where (once connected).
	Events  bool
	HookURL string
	// Generates: leaving the webhook secret empty has Accord generate it
	// (shown once after connecting).
	Generates bool
	Browser   bool // connects through its consent page
	Key       bool // connects with an API key
	Basic     bool // connects with a username and password
}

func (u *UI) renderSetup(w http.ResponseWriter, r *http.Request, v *view, status int, st setupState, f setupForm) error {
	ctx := r.Context()
	c, desc, ok := u.deps.API.CatalogContract(st.Contract)
	if !ok {
		return &pageError{Status: http.StatusNotFound, Msg: "There is no integration " + st.Contract + " in the catalog."}
	}
	sealed, err := u.sealSetup(v, st)
	if err != nil {
		return fmt.Errorf("signing the setup state: %w", err)
	}
	conns, err := u.deps.Store.ListConnections(ctx, v.Tenant)
	if err != nil {
		return err
	}
	var provs []setupProvider
	for _, name := range c.Providers {
		p := u.deps.Providers[name]
		sp := setupProvider{Name: name, Title: u.providerTitle(name), Events: sendsEvents(c, name), Generates: p != nil && p.Webhooks.GeneratesManualSecret()}
		if p != nil {
			sp.AuthKind = p.Auth.Kind
			sp.Browser = p.Auth.Kind == spec.AuthOAuth2Code && u.deps.ConnectBrowser != nil
			sp.Key = p.Auth.Kind == spec.AuthAPIKey || p.Auth.Kind == spec.AuthBearer
			sp.Basic = p.Auth.Kind == spec.AuthBasic
		}
		for _, perm := range desc.Permissions {
			if perm.Provider == name {
				sp.Permissions = append(sp.Permissions, perm)
			}
		}
		for _, conn := range conns {
			switch {
			case conn.Provider != name || conn.State == store.ConnectionDisconnected:
			case conn.ID == st.Conns[name]:
				sp.Conn = &conn
				if sp.Events {
					sp.HookURL = u.baseURL(r) + "/hooks/" + conn.ID
				}
			default:
				sp.Existing = append(sp.Existing, conn)
			}
		}
		provs = append(provs, sp)
	}
	sample, types := f.Sample, eventTypes(c, u.deps.Providers)
	if !slices.Contains(types, f.EventType) && len(types) > 0 {
		f.EventType = types[0]
	}
	if strings.TrimSpace(sample) == "" {
		sample = sampleJSON(c, u.deps.Providers, f.EventType)
	}
	var pv *preview
	var sampleErr string
	if st.Step == stepFields || st.Step == stepEvent {
		var doc map[string]any
		if err := json.Unmarshal([]byte(sample), &doc); err != nil || doc == nil {
			sampleErr = "The sample record is not a JSON object: " + jsonProblem(err)
			status = http.StatusUnprocessableEntity
		} else {
			p := runPreview(c, u.deps.Providers, f.EventType, doc, st.Overrides)
			pv = &p
		}
	}
	overrides, triggers := u.setupOverrides(c, st, f)
	steps := make([]string, len(stepTitles))
	copy(steps, stepTitles)
	v.Title = "Set up " + desc.Title
	u.render(w, r, status, "setup", v, map[string]any{
		"C": desc, "Contract": c, "Step": st.Step, "Steps": steps[1:], "State": sealed, "Providers": provs,
		"Sample": sample, "SampleError": sampleErr, "EventType": f.EventType, "EventTypes": types, "Preview": pv,
		"F": f, "Tested": st.Tested, "CanWrite": v.P.CanWrite(v.Tenant), "Next": st.Step + 1, "Prev": st.Step - 1,
		"Base":      tenantURL(v.Tenant) + "setup/" + url.PathEscape(c.Name),
		"Overrides": overrides, "Triggers": triggers, "TriggerError": f.OverrideErrors[""],
		"CanSend":      u.deps.SendTestEvent != nil && v.P.CanWrite(v.Tenant) && st.Tested,
		"SyncTriggers": scheduleTriggers(c), "CanSync": u.deps.TestSync != nil && v.P.CanWrite(v.Tenant) && st.Tested,
	})
	return nil
}

func jsonProblem(err error) string {
	if err == nil {
		return "it is null."
	}
	return err.Error()
}

// eventTypes lists the event types c's webhook triggers take, sorted.
func eventTypes(c *spec.Contract, providers map[string]*spec.Provider) []string {
	seen := map[string]bool{}
	for _, t := range c.Triggers {
		if t == nil || t.Webhook == nil || providers[t.Webhook.Provider] == nil {
			continue
		}
		for _, e := range t.Webhook.Events {
			seen[e] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}
