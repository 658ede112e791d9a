package ui_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

func TestSignInRequired(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.browser(t)
	resp, err := c.http.Get(b.url + "/ui/t/acme/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/ui/login?next=%2Fui%2Ft%2Facme%2F", resp.Header.Get("Location"))

	resp = c.post("/ui/login", "/ui/login", url.Values{"token": {"acc_not-a-token"}})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	b := setupWith(t, setupOptions{frameAncestors: []string{"https://app.example.com"}})
	for path, ancestors := range map[string]string{"/ui/login": "'none'", "/ui/t/acme/": "https://app.example.com"} {
		resp, err := http.DefaultTransport.RoundTrip(must(http.NewRequest(http.MethodGet, b.url+path, nil)))
		require.NoError(t, err)
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		require.Contains(t, csp, "default-src 'none'", path)
		require.Contains(t, csp, "script-src 'self'", path)
		require.NotContains(t, csp, "unsafe-inline", path)
		require.Contains(t, csp, "frame-ancestors "+ancestors, path)
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
	}
}

func TestHealthPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.browser(t)
	c.login(adminToken)

	status, body := c.get("/ui/")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "Acme Corp")
	require.Contains(t, body, "Globex Corp")
	require.Contains(t, body, `href="/ui/t/acme/installations/inst_escalation"`)

	status, body = c.get("/ui/t/acme/installations/inst_escalation")
	require.Equal(t, http.StatusOK, status)
	for _, want := range []string{
		"Escalate tickets to incidents",
		"Needs attention", "2 record errors waiting for a fix",
		"90.0%",                                // 18 applied of 20 applied or failed, last 24 h
		"24 events: 18 applied, 2 failed",      // plus 3 filtered and 1 in progress
		"91.3%",                                // 21 of 23 over 7 days
		"Last successful event", "4 hours ago", // the newest applied event
		"validation: severity must be one of 1..4", // the newest record error
		"1 permission", "1 validation",
		"When a record in Helpdesk changes", // spec.Explain
		"events arrive here",
		// The charts: SVG with a text alternative.
		"Events per hour, last 24 hours", `role="img"`, "24 events from", `<rect class="failed"`,
	} {
		require.Contains(t, body, want)
	}
	require.NotContains(t, body, "Reconnect", "every connection is active")
}

func TestReconnectButton(t *testing.T) {
	t.Parallel()
	var asked []string
	b := setupWith(t, setupOptions{reconnect: func(_ context.Context, tenant, id, _ string) (string, error) {
		asked = append(asked, tenant+"/"+id)
		return "https://helpdesk.example/authorize?state=x", nil
	}})
	c := b.conns["helpdesk"]
	c.State, c.StateReason = store.ConnectionNeedsReconnect, "The helpdesk refused the refresh token: reconnect to grant access again."
	require.NoError(t, b.st.UpdateConnection(t.Context(), c))

	viewer := b.browser(t)
	viewer.login(b.token(t, "viewer", ""))
	_, body := viewer.get("/ui/t/acme/installations/inst_escalation")
	require.Contains(t, body, "reconnect to grant access again")
	require.NotContains(t, body, "Reconnect Helpdesk</button>", "a viewer gets no button")
	resp := viewer.post("/ui/t/acme/installations/inst_escalation", "/ui/t/acme/connections/conn_helpdesk/reconnect", nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Empty(t, asked)

	admin := b.browser(t)
	admin.login(b.token(t, "tenant", "acme"))
	_, body = admin.get("/ui/t/acme/installations/inst_escalation")
	require.Contains(t, body, "Reconnect Helpdesk</button>")
	resp = admin.post("/ui/t/acme/installations/inst_escalation", "/ui/t/acme/connections/conn_helpdesk/reconnect", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "https://helpdesk.example/authorize?state=x", resp.Header.Get("Location"))
	require.Equal(t, []string{"acme/conn_helpdesk"}, asked)
	requireAudit(t, b, "connection.reconnect_started")
}

func TestRecordErrorsFilterAndRetry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.browser(t)
	c.login(b.token(t, "operator", ""))

	_, body := c.get("/ui/t/acme/record-errors")
	require.Contains(t, body, "severity must be one of 1..4")
	require.Contains(t, body, "token lacks incidents.write")
	_, body = c.get("/ui/t/acme/record-errors?class=validation&installation=inst_escalation")
	require.Contains(t, body, "severity must be one of 1..4")
	require.NotContains(t, body, "token lacks incidents.write")
	status, _ := c.get("/ui/t/acme/record-errors?class=nonsense")
	require.Equal(t, http.StatusBadRequest, status)

	_, body = c.get("/ui/t/acme/record-errors/re_1")
	require.Contains(t, body, "Map the ticket priority")
	require.Contains(t, body, "Retry this record")

	// Without the form's CSRF token, nothing happens.
	resp := c.post("/ui/t/acme/record-errors/re_1", "/ui/t/acme/record-errors/re_1/retry", url.Values{"csrf": {"forged"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Empty(t, b.queue.queued())

	resp = c.post("/ui/t/acme/record-errors/re_1", "/ui/t/acme/record-errors/re_1/retry", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/ui/t/acme/record-errors/re_1?retried=1", resp.Header.Get("Location"))
	require.Equal(t, []string{"deliver_event"}, b.queue.queued())
	re, err := b.st.GetRecordError(t.Context(), "acme", "re_1")
	require.NoError(t, err)
	require.Equal(t, store.RecordErrorRetrying, re.Status)
	e := requireAudit(t, b, "record_error.retried")
	require.True(t, strings.HasPrefix(e.Actor, "token:tok_"))
}

func TestViewerRefusedStateChange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.browser(t)
	c.login(b.token(t, "viewer", ""))
	status, body := c.get("/ui/t/acme/record-errors/re_1")
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, body, "Retry this record")
	resp := c.post("/ui/t/acme/record-errors/re_1", "/ui/t/acme/record-errors/re_1/retry", nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Empty(t, b.queue.queued())
}

func TestTenantBoundaries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.browser(t)
	c.login(b.token(t, "tenant", "acme"))
	resp, err := c.http.Get(b.url + "/ui/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "/ui/t/acme/", resp.Header.Get("Location"), "a tenant's admin goes to its own page")
	status, _ := c.get("/ui/t/globex/")
	require.Equal(t, http.StatusForbidden, status)
	status, _ = c.get("/ui/t/acme/")
	require.Equal(t, http.StatusOK, status)
}

func TestTenantLinkSingleUse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	l, err := b.client.CreateUILink(t.Context(), "acme", "")
	require.NoError(t, err)
	c := b.browser(t)
	resp, err := c.http.Get(b.url + l.Path)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/ui/t/acme/", resp.Header.Get("Location"))
	status, _ := c.get("/ui/t/acme/")
	require.Equal(t, http.StatusOK, status)
	status, _ = c.get("/ui/t/globex/")
	require.Equal(t, http.StatusForbidden, status, "the link's session is for acme only")
	requireAudit(t, b, "ui.link_used")

	other := b.browser(t)
	status, body := other.get(l.Path)
	require.Equal(t, http.StatusForbidden, status, "a second use is refused")
	require.Contains(t, body, "already used")
	status, _ = other.get(strings.Replace(l.Path, "ey", "eX", 1))
	require.Equal(t, http.StatusForbidden, status, "a tampered link is refused")
}

func TestRevokedTokenEndsSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok, err := b.client.CreateToken(t.Context(), apiTokenInput("operator"))
	require.NoError(t, err)
	c := b.browser(t)
	c.login(tok.Secret)
	status, _ := c.get("/ui/t/acme/")
	require.Equal(t, http.StatusOK, status)
	_, err = b.client.RevokeToken(t.Context(), tok.ID)
	require.NoError(t, err)
	resp, err := c.http.Get(b.url + "/ui/t/acme/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "back to sign-in")
}

func TestAssetsAreHashed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, body := b.browser(t).get("/ui/login")
	m := regexpAsset.FindStringSubmatch(body)
	require.NotNil(t, m)
	resp, err := http.Get(b.url + m[1])
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Cache-Control"), "immutable")
	require.Contains(t, resp.Header.Get("Content-Type"), "text/css")
	resp, err = http.Get(b.url + "/ui/static/app.css")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "only hashed names are served")
}

func requireAudit(t *testing.T, b *bundle, action string) store.AuditEntry {
	t.Helper()
	entries, err := b.st.ListAudit(t.Context(), "acme", 0, 1000)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Action == action {
			var d map[string]any
			require.NoError(t, json.Unmarshal(e.Detail, &d))
			require.NotEmpty(t, d["from"], "from where")
			return e
		}
	}
	t.Fatalf("no audit entry %q among %d", action, len(entries))
	return store.AuditEntry{}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

var secretField = regexp.MustCompile(`id="secret" type="text" readonly value="(acc_[^"]+)"`)

func TestTokensPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.browser(t)
	admin.login(adminToken)
	status, body := admin.get("/ui/tokens")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "No tokens yet")

	// Create a viewer token bound to acme; the page shows its secret once.
	_, page := admin.get("/ui/tokens")
	csrf := csrfField.FindStringSubmatch(page)[1]
	req, err := http.NewRequest(http.MethodPost, b.url+"/ui/tokens", strings.NewReader(url.Values{
		"csrf": {csrf}, "name": {"acme dashboards"}, "role": {"viewer"}, "tenant_id": {"acme"}, "ttl": {"24h"}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := admin.http.Do(req)
	require.NoError(t, err)
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	m := secretField.FindStringSubmatch(string(raw))
	require.NotNil(t, m, "the secret is shown")
	_, list := admin.get("/ui/tokens")
	require.NotContains(t, list, m[1], "and never again")
	requireAudit(t, b, "token.created")

	viewer := b.browser(t)
	viewer.login(m[1])
	status, _ = viewer.get("/ui/t/acme/")
	require.Equal(t, http.StatusOK, status)
	status, _ = viewer.get("/ui/tokens")
	require.Equal(t, http.StatusForbidden, status, "only an admin manages tokens")

	toks, err := b.st.ListAPITokens(t.Context())
	require.NoError(t, err)
	require.Len(t, toks, 1)
	resp = admin.post("/ui/tokens", "/ui/tokens/"+toks[0].ID+"/revoke", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, err = viewer.http.Get(b.url + "/ui/t/acme/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "the revoked token's session ended")
	requireAudit(t, b, "token.revoked")
}

func TestAuditLogPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.browser(t)
	c.login(b.token(t, "tenant", "acme"))
	c.post("/ui/t/acme/record-errors/re_2", "/ui/t/acme/record-errors/re_2/retry", nil)
	status, body := c.get("/ui/t/acme/audit")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "record_error.retried")
	require.Contains(t, body, "re_2")
	_, body = c.get("/ui/t/acme/audit?action=ui.link_used")
	require.Contains(t, body, "No entries match")
	status, _ = c.get("/ui/t/globex/audit")
	require.Equal(t, http.StatusForbidden, status)
}

func TestEvidenceBundle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.browser(t)
	c.login(b.token(t, "viewer", "acme"))
	_, page := c.get("/ui/t/acme/record-errors/re_1")
	require.Contains(t, page, `href="/ui/t/acme/record-errors/re_1/evidence.zip"`)
	resp, err := c.http.Get(b.url + "/ui/t/acme/record-errors/re_1/evidence.zip")
	require.NoError(t, err)
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "application/zip", resp.Header.Get("Content-Type"))
	require.Contains(t, resp.Header.Get("Content-Disposition"), `filename="accord-evidence-re_1.zip"`)

	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	require.NoError(t, err)
	files := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		body, err := io.ReadAll(rc)
		rc.Close()
		require.NoError(t, err)
		files[f.Name] = string(body)
	}
	require.ElementsMatch(t, []string{"README.txt", "record_error.json", "connections.json", "event.json"}, slices.Collect(maps.Keys(files)))
	var re map[string]any
	require.NoError(t, json.Unmarshal([]byte(files["record_error.json"]), &re))
	require.Equal(t, "acme", re["tenant_id"])
	require.Equal(t, "severity must be one of 1..4", re["partner_message"])
	require.Equal(t, "evt_01", re["event_id"])
	var ev map[string]any
	require.NoError(t, json.Unmarshal([]byte(files["event.json"]), &ev))
	require.Equal(t, "hd-evt_01", ev["partner_event_id"])
	all := strings.Join(slices.Collect(maps.Values(files)), "\n")
	require.NotContains(t, all, "sekret-123", "credentials never leave")
	require.NotContains(t, all, "ann.smith@example.com")
	require.Contains(t, files["event.json"], "a***@example.com")
	require.Contains(t, files["event.json"], "Checkout fails")

	status, _ := c.get("/ui/t/globex/record-errors/re_1/evidence.zip")
	require.Equal(t, http.StatusForbidden, status)
}

func TestPartnerBanner(t *testing.T) {
	t.Parallel()
	b := setup(t)
	acme := b.browser(t)
	acme.login(b.token(t, "tenant", "acme"))
	globex := b.browser(t)
	globex.login(b.token(t, "tenant", "globex"))
	_, body := acme.get("/ui/t/acme/")
	require.NotContains(t, body, `class="banner"`)

	b.partnerCalls("incidents", "ok", 10, 100*time.Millisecond)
	b.partnerCalls("incidents", "transient", 30, 100*time.Millisecond)
	_, body = acme.get("/ui/t/acme/")
	require.Contains(t, body, "Incidents is experiencing delays; your data may sync late.")
	_, body = globex.get("/ui/t/globex/")
	require.NotContains(t, body, "experiencing delays", "globex has no incidents connection")

	var st struct {
		Degraded bool `json:"degraded"`
		Partners []struct {
			Provider, Reason, Message string
		} `json:"partners"`
	}
	req, err := http.NewRequest(http.MethodGet, b.url+"/api/v1/status", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+b.token(t, "viewer", ""))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	resp.Body.Close()
	require.True(t, st.Degraded)
	require.Len(t, st.Partners, 1)
	require.Equal(t, "incidents", st.Partners[0].Provider)
	require.Equal(t, "errors", st.Partners[0].Reason)

	// Healthy calls for longer than the window: the banner clears by itself.
	for range 7 {
		b.partnerCalls("incidents", "ok", 10, 100*time.Millisecond)
		acme.get("/ui/t/acme/")
	}
	_, body = acme.get("/ui/t/acme/")
	require.NotContains(t, body, "experiencing delays")
}
