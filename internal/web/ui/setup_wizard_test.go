package ui_test

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/access"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/store/dbtest"
	"github.com/accordhq/accord/internal/web/api"
	"github.com/accordhq/accord/internal/web/ui"
	"github.com/accordhq/accord/packs"
)

// wizardBundle serves the API and the UI with the shipped
// support-escalation pack over st, for tenants acme and globex with no
// connection yet. Connection tests answer from testErr, by provider.
type wizardBundle struct {
	*bundle
	mu      sync.Mutex
	testErr map[string]error
	tested  []string
	// reconnected are the keys given to ReconnectSecret, by connection.
	reconnected map[string]string
	vault       *credential.Vault
}

func setupWizard(t *testing.T, st store.Store, edits ...func(*spec.Bundle)) *wizardBundle {
	t.Helper()
	ctx := t.Context()
	b := &wizardBundle{bundle: &bundle{st: st, queue: &recordingQueue{}}, testErr: map[string]error{}, reconnected: map[string]string{}}
	pack, diags := spec.LoadDirFS(packs.FS, "support-escalation")
	require.Empty(t, diags)
	for _, edit := range edits {
		edit(pack)
	}
	mk, err := credential.GenerateMasterKey()
	require.NoError(t, err)
	key, err := credential.ParseMasterKey(mk)
	require.NoError(t, err)
	kms, err := credential.NewLocalKMS(key)
	require.NoError(t, err)
	vault, err := credential.NewVault(st, kms, nil)
	require.NoError(t, err)
	b.vault = vault
	signer, err := access.NewSigner(access.DeriveKey([]byte("ui wizard test master key"), "ui"))
	require.NoError(t, err)
	versions := map[string]map[string]*spec.Contract{}
	for name, c := range pack.Contracts {
		versions[name] = map[string]*spec.Contract{c.Version: c}
	}
	admin := api.New(api.Deps{Store: st, Queue: b.queue, Vault: vault, Token: adminToken, Signer: signer,
		Providers: pack.Providers, Contracts: pack.Contracts, Versions: versions})
	pages, err := ui.New(ui.Deps{Store: st, API: admin, Signer: signer, Providers: pack.Providers, Versions: versions,
		TestConnection: func(ctx context.Context, tenant, id string) error {
			conn, err := st.GetConnection(ctx, tenant, id)
			if err != nil {
				return err
			}
			b.mu.Lock()
			defer b.mu.Unlock()
			b.tested = append(b.tested, conn.Provider)
			return b.testErr[conn.Provider]
		},
		ReconnectSecret: func(ctx context.Context, tenant, id, actor string, sec credential.Secret) (store.Connection, error) {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.reconnected[id] = sec.APIKey
			return st.GetConnection(ctx, tenant, id)
		}}, &ui.Config{AdminToken: adminToken})
	require.NoError(t, err)
	root := http.NewServeMux()
	for p, h := range admin.Routes() {
		root.Handle(p, h)
	}
	for p, h := range pages.Routes() {
		root.Handle(p, h)
	}
	srv := httptest.NewServer(root)
	t.Cleanup(srv.Close)
	b.url = srv.URL
	b.client = &api.Client{BaseURL: srv.URL, Token: adminToken}
	for _, id := range []string{"acme", "globex"} {
		require.NoError(t, st.CreateTenant(ctx, store.Tenant{ID: id, Name: strings.ToUpper(id[:1]) + id[1:] + " Corp"}))
	}
	return b
}

var stateField = regexp.MustCompile(`name="w" value="([^"]+)"`)

// wizard drives the setup wizard of one contract over plain HTTP, as a
// browser without script would: each post carries the page's CSRF token
// and the state the last page signed.
type wizard struct {
	t     *testing.T
	c     *browser
	path  string
	csrf  string
	state string
}

func (b *wizardBundle) wizard(t *testing.T, token, tenant string) *wizard {
	c := b.browser(t)
	c.login(token)
	w := &wizard{t: t, c: c, path: "/ui/t/" + tenant + "/setup/escalation"}
	status, body := w.open()
	require.Equal(t, http.StatusOK, status, body)
	return w
}

// open GETs the wizard's first step and keeps its tokens.
func (w *wizard) open() (int, string) {
	status, body := w.c.get(w.path)
	w.keep(body)
	return status, body
}

func (w *wizard) keep(body string) {
	if m := csrfField.FindStringSubmatch(body); m != nil {
		w.csrf = m[1]
	}
	if m := stateField.FindStringSubmatch(body); m != nil {
		w.state = html.UnescapeString(m[1])
	}
}

// do posts action with form, and returns the status, the body and where a
// redirect points.
func (w *wizard) do(action string, form url.Values) (int, string, string) {
	w.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("action", action)
	if !form.Has("csrf") {
		form.Set("csrf", w.csrf)
	}
	if !form.Has("w") {
		form.Set("w", w.state)
	}
	req, err := http.NewRequest(http.MethodPost, w.c.b.url+w.path, strings.NewReader(form.Encode()))
	require.NoError(w.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", w.c.b.url)
	resp, err := w.c.http.Do(req)
	require.NoError(w.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(w.t, err)
	w.keep(string(raw))
	return resp.StatusCode, html.UnescapeString(string(raw)), resp.Header.Get("Location")
}

// connectAll connects the pack's three providers with API keys.
func (w *wizard) connectAll() {
	w.t.Helper()
	for _, c := range []struct{ provider, key, secret string }{
		{"helpdesk", "hd-secret-key-1", "hd-webhook-secret-0123456789"},
		{"incidents", "inc-secret-key-1", ""},
		{"chat", "chat-secret-key-1", ""},
	} {
		form := url.Values{"api_key": {c.key}}
		if c.secret != "" {
			form.Set("webhook_secret", c.secret)
		}
		status, body, _ := w.do("connect:"+c.provider, form)
		require.Equal(w.t, http.StatusOK, status, body)
		require.NotContains(w.t, body, c.key, "a key typed in is never written back into a page")
		if c.secret != "" {
			require.NotContains(w.t, body, c.secret)
		}
	}
}

func TestSetupWizard(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setupWizard(t, st)
		ctx := t.Context()
		tok := b.token(t, "tenant", "acme")
		c := b.browser(t)
		c.login(tok)
		status, body := c.get("/ui/t/acme/")
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, `href="/ui/t/acme/setup/"`, "the tenant's page links to the wizard")
		status, body = c.get("/ui/t/acme/setup/")
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "Escalate tickets to incidents")
		require.Contains(t, body, `href="/ui/t/acme/setup/escalation"`)

		w := b.wizard(t, tok, "acme")
		_, body = w.open()
		body = html.UnescapeString(body)
		// Step 1: what it does and the scopes, with their descriptions.
		for _, want := range []string{"When a ticket in Helpdesk changes to Escalated, Accord creates an incident in Incidents",
			"Read tickets", "tickets.read", "Create and update incidents", "incidents.write", "Post messages to channels"} {
			require.Contains(t, body, want)
		}

		status, body, _ = w.do("goto:2", nil)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, `name="api_key"`)
		require.Contains(t, body, "Accord will ask Helpdesk for")

		// Later steps wait for every account.
		status, body, _ = w.do("goto:3", nil)
		require.Equal(t, http.StatusUnprocessableEntity, status)
		require.Contains(t, body, "Connect Helpdesk, Incidents, Chat first")

		// The event source needs a webhook secret; a key is required.
		status, body, _ = w.do("connect:helpdesk", url.Values{"api_key": {"hd-secret-key-1"}})
		require.Equal(t, http.StatusUnprocessableEntity, status)
		require.Contains(t, body, "Enter the webhook signing secret Helpdesk shows")
		require.NotContains(t, body, "hd-secret-key-1")
		status, body, _ = w.do("connect:incidents", url.Values{"api_key": {"  "}})
		require.Equal(t, http.StatusUnprocessableEntity, status)
		require.Contains(t, body, "Enter the API key of the Incidents account.")
		conns, err := st.ListConnections(ctx, "acme")
		require.NoError(t, err)
		require.Empty(t, conns, "a refused form stores nothing")

		w.connectAll()
		conns, err = st.ListConnections(ctx, "acme")
		require.NoError(t, err)
		require.Len(t, conns, 3)
		status, body, _ = w.do("goto:2", nil)
		require.Equal(t, http.StatusOK, status)
		var hd store.Connection
		for _, conn := range conns {
			if conn.Provider == "helpdesk" {
				hd = conn
			}
		}
		require.Contains(t, body, b.url+"/hooks/"+hd.ID, "the webhook address to give Helpdesk")

		// Step 3: the contract's mapping with a live preview on a sample.
		status, body, _ = w.do("goto:3", nil)
		require.Equal(t, http.StatusOK, status, body)
		require.Contains(t, body, "we will create an incident in Incidents with these fields")
		require.Contains(t, body, "we will create a message in Chat with these fields")
		require.Contains(t, body, `"escalated"`, "the sample meets the trigger's condition")
		sample := `{"id":"T-9","title":"Checkout down","priority":"high","status":"escalated","url":"https://hd.example/T-9","version":3}`
		status, body, _ = w.do("goto:3", url.Values{"sample": {sample}, "event_type": {"ticket.updated"}})
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, `<td><code>severity</code></td><td><code>ticket.priority (through its value map)</code></td><td><code>1</code></td>`)
		require.Contains(t, body, `<code>"Escalated: Checkout down https://hd.example/T-9"</code>`)
		status, body, _ = w.do("goto:3", url.Values{"sample": {strings.Replace(sample, "escalated", "open", 1)}})
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, `is false for this record: the event would end filtered`)
		status, body, _ = w.do("goto:3", url.Values{"sample": {`{"title": `}})
		require.Equal(t, http.StatusUnprocessableEntity, status)
		require.Contains(t, body, "The sample record is not a JSON object")

		// Enabling waits for the tests.
		status, body, _ = w.do("goto:6", url.Values{"sample": {sample}})
		require.Equal(t, http.StatusUnprocessableEntity, status)
		require.Contains(t, body, "Test the connections first")
		status, body, _ = w.do("test", url.Values{"sample": {sample}})
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "Helpdesk accepted the credentials.")
		require.Contains(t, body, "Incidents accepted the credentials.")
		require.Contains(t, body, "Chat names no test call")
		b.mu.Lock()
		require.ElementsMatch(t, []string{"helpdesk", "incidents"}, b.tested)
		b.mu.Unlock()

		// Step 5: the dry run shows the partner requests.
		status, body, _ = w.do("goto:5", url.Values{"sample": {sample}, "event_type": {"ticket.updated"}})
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "nothing is sent to any partner and nothing is stored")
		require.Contains(t, body, "<code>POST /v1/incidents</code>")
		require.Contains(t, body, "<code>POST /v1/channels/escalations/messages</code>")
		require.Contains(t, body, "Idempotency-Key: accord-")
		require.Contains(t, body, "Authorization: Bearer <redacted>")
		require.Contains(t, body, `"severity": 1`)
		require.NotContains(t, body, "inc-secret-key-1")

		status, body, _ = w.do("goto:6", nil)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "records your consent")
		status, _, loc := w.do("enable", nil)
		require.Equal(t, http.StatusSeeOther, status)
		require.True(t, strings.HasPrefix(loc, "/ui/t/acme/installations/inst_"), loc)
		require.True(t, strings.HasSuffix(loc, "?installed=1"), loc)
		id := strings.TrimSuffix(strings.TrimPrefix(loc, "/ui/t/acme/installations/"), "?installed=1")
		inst, err := st.GetInstallation(ctx, "acme", id)
		require.NoError(t, err)
		require.Equal(t, store.InstallationActive, inst.State)
		require.Equal(t, "1.0.0", inst.ContractVersion)
		require.Len(t, inst.Connections, 3)
		require.Equal(t, hd.ID, inst.Connections["helpdesk"])
		status, body = c.get(loc)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "is enabled")
		require.Contains(t, body, b.url+"/hooks/"+hd.ID)

		// Consent and the connections are in the audit log, by this token.
		entries, err := st.ListAudit(ctx, "acme", 0, 100)
		require.NoError(t, err)
		actions := map[string]string{}
		for _, e := range entries {
			actions[e.Action] = e.Actor
			if e.Action == "installation.consented" {
				var d map[string]any
				require.NoError(t, json.Unmarshal(e.Detail, &d))
				require.Equal(t, "1.0.0", d["contract_version"])
				require.NotEmpty(t, d["scopes"])
			}
		}
		require.True(t, strings.HasPrefix(actions["installation.consented"], "token:"), actions)
		require.True(t, strings.HasPrefix(actions["connection.created"], "token:"), actions)
		require.True(t, strings.HasPrefix(actions["installation.enabled"], "token:"), actions)
	})
}

func TestSetupWizardFailedTestBlocksEnable(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setupWizard(t, st)
		b.testErr["incidents"] = errors.New("401 unauthorized")
		w := b.wizard(t, adminToken, "acme")
		w.connectAll()
		status, body, _ := w.do("test", nil)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, "Incidents</span>")
		require.Contains(t, body, "401 unauthorized")
		require.NotContains(t, body, `id="next"`, "no way on while a test fails")
		for _, action := range []string{"goto:6", "enable"} {
			status, body, _ = w.do(action, nil)
			require.Equal(t, http.StatusUnprocessableEntity, status, action)
			require.Contains(t, body, "Test the connections first")
		}
		insts, err := st.ListInstallations(t.Context(), "acme")
		require.NoError(t, err)
		require.Empty(t, insts)

		// Fixed, the test passes and the wizard goes on.
		b.mu.Lock()
		delete(b.testErr, "incidents")
		b.mu.Unlock()
		status, body, _ = w.do("test", nil)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, `id="next"`)
		status, _, _ = w.do("enable", nil)
		require.Equal(t, http.StatusSeeOther, status)
	})
}

func TestSetupWizardRefusals(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setupWizard(t, st)
		ctx := t.Context()

		// A viewer reads step 1 but gets no form, and its posts are refused.
		viewer := b.wizard(t, b.token(t, "viewer", ""), "acme")
		_, body := viewer.open()
		require.Contains(t, body, "read-only")
		require.NotContains(t, body, `name="action"`)
		status, body, _ := viewer.do("goto:2", url.Values{"w": {"anything"}})
		require.Equal(t, http.StatusForbidden, status)
		require.Contains(t, body, "read-only")
		status, _, _ = viewer.do("connect:chat", url.Values{"w": {"anything"}, "api_key": {"k"}})
		require.Equal(t, http.StatusForbidden, status)

		// Another tenant's wizard is not this tenant token's to open or use.
		globex := b.browser(t)
		globex.login(b.token(t, "tenant", "globex"))
		status, body = globex.get("/ui/t/acme/setup/escalation")
		require.Equal(t, http.StatusForbidden, status)
		require.Contains(t, body, "another tenant")
		status, _ = globex.get("/ui/t/acme/setup/")
		require.Equal(t, http.StatusForbidden, status)

		admin := b.wizard(t, adminToken, "acme")
		// No CSRF token, or another's: refused before anything happens.
		status, body, _ = admin.do("connect:chat", url.Values{"csrf": {""}, "api_key": {"k"}})
		require.Equal(t, http.StatusForbidden, status)
		require.Contains(t, body, "This form expired")
		status, _, _ = admin.do("connect:chat", url.Values{"csrf": {viewer.csrf}, "api_key": {"k"}})
		require.Equal(t, http.StatusForbidden, status)

		// A state tampered with, or signed for another session, is refused.
		status, body, _ = admin.do("goto:2", url.Values{"w": {admin.state + "x"}})
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, body, "This setup expired or was started in another session")
		other := b.wizard(t, adminToken, "acme")
		status, _, _ = admin.do("goto:2", url.Values{"w": {other.state}})
		require.Equal(t, http.StatusBadRequest, status)
		// Nor does a state move to another tenant's wizard.
		admin.path = "/ui/t/globex/setup/escalation"
		status, _, _ = admin.do("goto:2", nil)
		require.Equal(t, http.StatusBadRequest, status)
		admin.path = "/ui/t/acme/setup/escalation"

		// Another tenant's connection cannot be chosen.
		g := b.wizard(t, adminToken, "globex")
		g.connectAll()
		gc, err := st.ListConnections(ctx, "globex")
		require.NoError(t, err)
		require.NotEmpty(t, gc)
		status, body, _ = admin.do("use:"+gc[0].Provider, url.Values{"connection": {gc[0].ID}})
		require.Equal(t, http.StatusUnprocessableEntity, status)
		require.Contains(t, body, "Choose one of this tenant's")

		// An unknown contract or action.
		status, _ = b.browser(t).get("/ui/t/acme/setup/nope")
		require.Equal(t, http.StatusSeeOther, status, "signed out: to the sign-in page")
		status, _, _ = admin.do("launch", nil)
		require.Equal(t, http.StatusBadRequest, status)
		status, body, _ = admin.do("connect:billing", url.Values{"api_key": {"k"}})
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, body, "does not use billing")

		insts, err := st.ListInstallations(ctx, "acme")
		require.NoError(t, err)
		require.Empty(t, insts)
		conns, err := st.ListConnections(ctx, "acme")
		require.NoError(t, err)
		require.Empty(t, conns)
	})
}

func TestReconnectWithKey(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setupWizard(t, st)
		conn, err := b.client.CreateConnection(t.Context(), "acme", api.ConnectionInput{Provider: "incidents", APIKey: "old-key"})
		require.NoError(t, err)
		path := "/ui/t/acme/connections/" + conn.ID + "/reconnect"
		back := "/ui/t/acme/installations/inst_x"

		viewer := b.browser(t)
		viewer.login(b.token(t, "viewer", ""))
		resp := viewer.post("/ui/t/acme/", path, url.Values{"submitted": {"1"}, "api_key": {"new-key"}})
		require.Equal(t, http.StatusForbidden, resp.StatusCode)

		admin := b.wizard(t, adminToken, "acme")
		admin.path = path
		status, body, _ := admin.do("", url.Values{"back": {back}})
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, `name="api_key"`, "first the form for the new key")
		require.NotContains(t, body, "old-key")
		status, body, _ = admin.do("", url.Values{"back": {back}, "submitted": {"1"}, "api_key": {" "}})
		require.Equal(t, http.StatusUnprocessableEntity, status)
		require.Contains(t, body, "Enter the new credentials of the Incidents account.")
		status, _, loc := admin.do("", url.Values{"back": {back}, "submitted": {"1"}, "api_key": {"new-key"}})
		require.Equal(t, http.StatusSeeOther, status)
		require.Equal(t, back, loc)
		// A return address off this tenant's pages is not followed.
		_, _, loc = admin.do("", url.Values{"back": {"https://evil.example/"}, "submitted": {"1"}, "api_key": {"newer-key"}})
		require.Equal(t, "/ui/t/acme/", loc)
		b.mu.Lock()
		require.Equal(t, "newer-key", b.reconnected[conn.ID])
		b.mu.Unlock()
	})
}

// TestSetupWizardShowsAGeneratedSecretOnce: for a partner that takes a
// signing secret chosen for it (manual_secret: generated), the connect
// step may leave the secret empty; Accord generates it and shows it once,
// beside the webhook address, and it is the secret the connection keeps.
// The next page does not show it again.
func TestSetupWizardShowsAGeneratedSecretOnce(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, st store.Store) {
		b := setupWizard(t, st, func(p *spec.Bundle) {
			// Registered by hand, with a secret Accord may choose.
			w := p.Providers["helpdesk"].Webhooks
			w.Registration, w.ManualSecret = nil, spec.SecretGenerated
		})
		w := b.wizard(t, adminToken, "acme")
		status, body, _ := w.do("goto:2", nil)
		require.Equal(t, http.StatusOK, status, body)
		require.Contains(t, body, "Leave it empty and Accord generates one")

		status, body, _ = w.do("connect:helpdesk", url.Values{"api_key": {"hd-secret-key-1"}})
		require.Equal(t, http.StatusOK, status, body)
		m := regexp.MustCompile(`shown this once: <code class="secret">(whsec_[A-Za-z0-9+/]{43}=)</code>`).FindStringSubmatch(body)
		require.NotNil(t, m, "the generated secret is shown")
		require.Contains(t, body, "/hooks/conn_", "with the webhook address")
		conns, err := b.st.ListConnections(t.Context(), "acme")
		require.NoError(t, err)
		require.Len(t, conns, 1)
		sec, err := b.vault.OpenSecret(t.Context(), "acme", conns[0].Secret)
		require.NoError(t, err)
		require.Equal(t, m[1], sec.Extra[api.WebhookSecretKey], "the shown secret is the connection's")

		status, body, _ = w.do("goto:2", nil)
		require.Equal(t, http.StatusOK, status, body)
		require.NotContains(t, body, m[1], "shown once: never again")
	})
}
