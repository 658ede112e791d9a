package ui_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/store"
)

// The browser tests drive Debian's chromium (apt-get install -y chromium)
// headless through chromedp. Without the binary they skip, unless
// ACCORD_TEST_BROWSER=1 (CI), which makes them fail instead. Screenshots
// go to testdata/screenshots (git-ignored; see the README).

var (
	browserOnce  sync.Once
	browserCtx   context.Context
	browserClose context.CancelFunc
	browserErr   string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if browserClose != nil {
		browserClose()
	}
	os.Exit(code)
}

func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// tab opens a fresh tab in its own browser context (its own cookies) on
// the shared headless browser, sized like a laptop screen.
func tab(t *testing.T) context.Context {
	t.Helper()
	browserOnce.Do(func() {
		path := chromiumPath()
		if path == "" {
			browserErr = "install chromium: apt-get install -y chromium"
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.NoSandbox, // CI runs as root
			chromedp.WindowSize(1280, 900),
			// Loopback only: anything Chromium would fetch from elsewhere
			// goes to a closed local port instead.
			chromedp.ProxyServer("http://127.0.0.1:9"),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-domain-reliability", true),
			chromedp.Flag("no-pings", true),
		)
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, cancelBrowser := chromedp.NewContext(actx)
		if err := chromedp.Do(bctx); err != nil {
			cancelBrowser()
			cancelAlloc()
			browserErr = "starting chromium: " + err.Error()
			return
		}
		browserCtx = bctx
		browserClose = func() { cancelBrowser(); cancelAlloc() }
	})
	if browserCtx == nil {
		if os.Getenv("ACCORD_TEST_BROWSER") == "1" {
			t.Fatal(browserErr + " (ACCORD_TEST_BROWSER=1: browser tests must run)")
		}
		t.Skip(browserErr)
	}
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
}

// screenshot saves the whole page as testdata/screenshots/<name>.png.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	dir := filepath.Join("testdata", "screenshots")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644))
}

// mainText is the text of the page's <main>.
func mainText(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	require.NoError(t, err)
	return s
}

// signIn pastes token into the sign-in form, as a person would.
func signIn(t *testing.T, ctx context.Context, b *bundle, token string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(b.url+"/ui/login"),
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("nav")),
	))
}

func TestBrowserHealthPage(t *testing.T) {
	b := setup(t)
	ctx := tab(t)
	signIn(t, ctx, b, adminToken)
	require.Contains(t, mainText(t, ctx), "Acme Corp")
	screenshot(t, ctx, "operator-index")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href="/ui/t/acme/installations/inst_escalation"]`)),
		chromedp.WaitVisible(chromedp.ID("rates")),
	))
	text := mainText(t, ctx)
	for _, want := range []string{"Escalate tickets to incidents", "Needs attention", "90.0%", "Last successful event",
		"What this integration does", "Helpdesk",
		"Speed", "Receipt → write latency, Last 24 hours (18 applied events)", "p50", "p99",
		"Waiting writes", "Waiting to be written", "Rejected webhooks", "Last 7 days: 0 rejected"} {
		require.Contains(t, text, want)
	}
	// The latency histograms are drawn, one bar group per bucket with
	// events.
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('section[aria-labelledby=latency] svg rect.applied').length`))
	require.NoError(t, err)
	require.Positive(t, bars)
	screenshot(t, ctx, "health-desktop")

	// Phone width: nothing scrolls sideways.
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("rates"))))
	fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
	require.NoError(t, err)
	require.True(t, fits, "the health page fits a 390px screen")
	screenshot(t, ctx, "health-phone")

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(b.url+"/ui/t/acme/record-errors"), chromedp.WaitVisible(chromedp.CSS("table.errors"))))
	fits, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
	require.NoError(t, err)
	require.True(t, fits, "the record errors list fits a 390px screen")
	screenshot(t, ctx, "record-errors-phone")
}

func TestBrowserViewerRefusedStateChange(t *testing.T) {
	b := setup(t)
	ctx := tab(t)
	signIn(t, ctx, b, b.token(t, "viewer", ""))
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(b.url+"/ui/t/acme/record-errors/re_1"), chromedp.WaitVisible(chromedp.ID("fix"))))
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#retry').length`))
	require.NoError(t, err)
	require.Zero(t, n, "a viewer gets no retry button")

	// The viewer posts the retry form anyway, with the page's own CSRF
	// token: the server refuses it.
	_, err = chromedp.Call(ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true})
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`(() => {
			const f = document.createElement('form');
			f.method = 'post';
			f.action = location.pathname + '/retry';
			const i = document.createElement('input');
			i.type = 'hidden'; i.name = 'csrf';
			i.value = document.querySelector('input[name=csrf]').value;
			f.appendChild(i);
			document.body.appendChild(f);
			f.submit();
		})()`),
		chromedp.WaitVisible(chromedp.CSS(`p[role="alert"]`)),
	))
	require.Contains(t, mainText(t, ctx), "read-only")
	title, err := chromedp.Run(ctx, chromedp.Title())
	require.NoError(t, err)
	require.Contains(t, title, "Forbidden")
	screenshot(t, ctx, "viewer-refused")
	require.Empty(t, b.queue.queued())
	re, err := b.st.GetRecordError(t.Context(), "acme", "re_1")
	require.NoError(t, err)
	require.Equal(t, store.RecordErrorOpen, re.Status)
}

func TestBrowserTenantLink(t *testing.T) {
	b := setup(t)
	l, err := b.client.CreateUILink(t.Context(), "acme", "")
	require.NoError(t, err)
	ctx := tab(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(b.url+l.Path), chromedp.WaitVisible(chromedp.CSS("main table"))))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, b.url+"/ui/t/acme/", loc, "the link signs in and lands on the tenant's page")
	require.Contains(t, mainText(t, ctx), "Escalate tickets to incidents")
	screenshot(t, ctx, "tenant-link-landing")

	// Another tenant's pages are refused to this session.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(b.url+"/ui/t/globex/"), chromedp.WaitVisible(chromedp.CSS(`p[role="alert"]`))))
	require.Contains(t, mainText(t, ctx), "another tenant")
	screenshot(t, ctx, "tenant-link-other-tenant")

	// The link works once: opened again (a copy, another browser), it is
	// refused.
	other := tab(t)
	require.NoError(t, chromedp.Do(other, chromedp.Navigate(b.url+l.Path), chromedp.WaitVisible(chromedp.CSS(`p[role="alert"]`))))
	require.Contains(t, mainText(t, other), "already used")
	screenshot(t, other, "tenant-link-reused")

	// A link made for globex opens globex only.
	lg, err := b.client.CreateUILink(t.Context(), "globex", "")
	require.NoError(t, err)
	third := tab(t)
	require.NoError(t, chromedp.Do(third, chromedp.Navigate(b.url+lg.Path), chromedp.WaitVisible(chromedp.CSS("main"))))
	require.NoError(t, chromedp.Do(third, chromedp.Navigate(b.url+"/ui/t/acme/installations/inst_escalation"), chromedp.WaitVisible(chromedp.CSS(`p[role="alert"]`))))
	require.Contains(t, mainText(t, third), "another tenant")
}

func TestBrowserRetryRecordError(t *testing.T) {
	b := setup(t)
	ctx := tab(t)
	signIn(t, ctx, b, b.token(t, "tenant", "acme"))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`nav a[href="/ui/t/acme/record-errors"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.errors")),
		// Filter to the validation error, as an admin hunting it would.
		chromedp.SetValue(chromedp.ID("f-class"), "validation"),
	))
	// The filtered list is a new page: wait for it, not for the old one.
	_, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`form.filters button`)))
	require.NoError(t, err)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Contains(t, loc, "class=validation")
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`table.errors a[href="/ui/t/acme/record-errors/re_1"]`))))
	text := mainText(t, ctx)
	require.Contains(t, text, "severity must be one of 1..4")
	require.NotContains(t, text, "token lacks incidents.write")
	screenshot(t, ctx, "record-errors-filtered")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`table.errors a[href="/ui/t/acme/record-errors/re_1"]`)),
		chromedp.WaitVisible(chromedp.ID("retry")),
	))
	require.Contains(t, mainText(t, ctx), "Map the ticket priority")
	screenshot(t, ctx, "record-error-detail")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("retry")),
		chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)),
	))
	text = mainText(t, ctx)
	require.Contains(t, text, "Retry queued")
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("status")))
	require.NoError(t, err)
	require.Equal(t, "retrying", strings.TrimSpace(status))
	screenshot(t, ctx, "record-error-retried")
	require.Equal(t, []string{"deliver_event"}, b.queue.queued())
	e := requireAudit(t, b, "record_error.retried")
	require.True(t, strings.HasPrefix(e.Actor, "token:"))
}

func TestBrowserTokensPage(t *testing.T) {
	b := setup(t)
	ctx := tab(t)
	signIn(t, ctx, b, adminToken)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`nav a[href="/ui/tokens"]`)),
		chromedp.WaitVisible(chromedp.ID("t-name")),
		chromedp.SendKeys(chromedp.ID("t-name"), "Acme's dashboards"),
		chromedp.SetValue(chromedp.ID("t-tenant"), "acme"),
		chromedp.Click(chromedp.CSS(`form[action="/ui/tokens"] button`)),
		chromedp.WaitVisible(chromedp.ID("secret")),
	))
	secret, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("secret")))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(secret, "acc_"))
	require.Contains(t, mainText(t, ctx), "Acme's dashboards")
	screenshot(t, ctx, "tokens")

	// The new viewer token signs in elsewhere and sees acme read-only.
	other := tab(t)
	signIn(t, other, b, secret)
	loc, err := chromedp.Run(other, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, b.url+"/ui/t/acme/", loc)
}

func TestBrowserPartnerBanner(t *testing.T) {
	b := setup(t)
	ctx := tab(t)
	signIn(t, ctx, b, b.token(t, "tenant", "acme"))
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.banner').length`))
	require.NoError(t, err)
	require.Zero(t, n)

	// Inject latency: the incidents partner takes 8 s per write.
	b.partnerCalls("incidents", "ok", 1, 8*time.Second)
	b.partnerCalls("incidents", "ok", 25, 8*time.Second)
	require.NoError(t, chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".banner"))))
	banner, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".banner")))
	require.NoError(t, err)
	require.Equal(t, "Incidents is experiencing delays; your data may sync late.", strings.TrimSpace(banner))
	screenshot(t, ctx, "partner-banner")
}
