package ui_test

import (
	"context"
	"crypto/sha256"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
)

const (
	notesClientID     = "accord-notes"
	notesClientSecret = "notes-client-secret-value"
	notesUser         = "test-user@127.0.0.1" // the example storage's user, at the OP's host
)

// notesPack writes a pack whose one provider connects with the OAuth
// authorization code flow at opURL.
func notesPack(t *testing.T, opURL string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"notes/providers/notes.yaml": `accord: provider/v1
name: notes
title: Notes
base_url: ${NOTES_URL:-http://127.0.0.1:9}
auth:
  kind: oauth2_code
  authorize_url: ` + opURL + `/authorize
  token_url: ` + opURL + `/oauth/token
  client_id_env: NOTES_CLIENT_ID
  client_secret_env: NOTES_CLIENT_SECRET
  token_auth_method: client_secret_basic
scopes:
  - {name: openid, description: Know who you are}
  - {name: offline_access, description: Stay connected when you are away}
objects:
  note:
    id: id
    version: version
    fields:
      id: {type: string, read_only: true}
      text: {type: string, required: true}
      version: {type: int, read_only: true}
    endpoints:
      list: {method: GET, path: /notes, items: notes}
      get: {method: GET, path: "/notes/{id}"}
  memo:
    fields:
      id: {type: string, read_only: true}
      text: {type: string, required: true}
    endpoints:
      create: {method: POST, path: /memos, id_path: id}
`,
		"notes/contracts/notes.yaml": `accord: contract/v1
name: notes-to-memos
version: 1.0.0
title: Copy notes to memos
story: Each note becomes a memo.
providers: [notes]
direction: one_way
source_of_truth:
  - object: notes.note
    owner: notes
triggers:
  note:
    schedule: {provider: notes, object: note, every: 1h}
actions:
  - name: memo
    trigger: note
    provider: notes
    object: memo
    op: create
    duplicates: {policy: tolerated, reason: a browser test's pack}
    mapping:
      - {to: text, from: note.text}
`,
	}
	for name, body := range files {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	}
	_, diags := spec.LoadDir(filepath.Join(dir, "notes"))
	require.Empty(t, diags, diags.Error())
	return dir
}

// startNotesOP serves a real OAuth 2.0 provider (zitadel's op package
// with its example in-memory storage) whose web client sends the browser
// back to redirectURI. Its login page signs the example user in at once.
func startNotesOP(t *testing.T, srv *httptest.Server, handler *http.Handler, redirectURI string) {
	t.Helper()
	st := storage.NewStorageWithClients(storage.NewUserStore(srv.URL),
		map[string]*storage.Client{notesClientID: storage.WebClient(notesClientID, notesClientSecret, redirectURI)})
	provider, err := op.NewProvider(&op.Config{CryptoKey: sha256.Sum256([]byte("ui browser test op")), CodeMethodS256: true,
		AuthMethodPost: true, GrantTypeRefreshToken: true}, st, op.StaticIssuer(srv.URL), op.WithAllowInsecure())
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.HandleFunc("/login/username", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("authRequestID")
		if err := st.CheckUsernamePassword(notesUser, "verysecure", id); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, srv.URL+"/authorize/callback?id="+id, http.StatusFound)
	})
	mux.Handle("/", provider)
	*handler = mux
}

// freeAddr is a loopback address nothing listens on now: the OAuth
// client's redirect URI must name Accord's port before Accord starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// The connect step's OAuth branch: the admin is sent to the partner's
// consent page, signs in there, and comes back to the wizard with the
// account connected (the token exchanged, stored encrypted, never shown).
func TestBrowserWizardConnectsWithOAuth(t *testing.T) {
	backendsUnderTest(t, func(t *testing.T, backend string) {
		var opHandler http.Handler
		opSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { opHandler.ServeHTTP(w, r) }))
		t.Cleanup(opSrv.Close)
		packs := notesPack(t, opSrv.URL)
		addr := freeAddr(t)
		startNotesOP(t, opSrv, &opHandler, "http://"+addr+"/connect/callback")
		t.Setenv("NOTES_CLIENT_ID", notesClientID)
		t.Setenv("NOTES_CLIENT_SECRET", notesClientSecret)

		ctx := tab(t)
		d := startDemoWith(t, backend, func(cfg *config.Config) { cfg.Packs, cfg.Addr = packs, addr })
		require.Equal(t, "http://"+addr, d.url)
		signIn(t, ctx, &bundle{url: d.url}, adminToken)
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(d.url+"/ui/t/acme/setup/notes-to-memos"), chromedp.WaitVisible(chromedp.ID("next"))))
		submit(t, ctx, "#next")
		text := mainText(t, ctx)
		require.Contains(t, text, "Know who you are", "the scopes requested, with their descriptions")
		require.Contains(t, text, "You will sign in at Notes")
		screenshot(t, ctx, "wizard-oauth-"+backend+"-connect")

		// Off to the partner's consent page and back.
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[value="browser:notes"]`))))
		// Accord's callback page confirms, and links back to the wizard.
		require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`a[href*="/ui/t/acme/setup/notes-to-memos?w="]`))))
		require.Contains(t, mainTextOrBody(t, ctx), "Connected to Notes")
		screenshot(t, ctx, "wizard-oauth-"+backend+"-callback")
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href*="/ui/t/acme/setup/notes-to-memos?w="]`))))
		waitFor(t, "the way back to the wizard", func() bool {
			loc, err := chromedp.Run(ctx, chromedp.Location())
			require.NoError(t, err)
			// The wizard's state comes back signed in the URL.
			return strings.HasPrefix(loc, d.url+"/ui/t/acme/setup/notes-to-memos?w=")
		})
		require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("p-notes"))))
		text = mainText(t, ctx)
		require.Contains(t, text, "Notes is connected.", "the connection the sign-in made is the one chosen")
		require.Contains(t, text, "Using connection conn_")
		screenshot(t, ctx, "wizard-oauth-"+backend+"-connected")

		conns, err := d.app.Store.ListConnections(t.Context(), "acme")
		require.NoError(t, err)
		require.Len(t, conns, 1)
		require.Equal(t, "notes", conns[0].Provider)
		require.Equal(t, store.ConnectionActive, conns[0].State)
		html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
		require.NoError(t, err)
		require.NotContains(t, html, notesClientSecret)
		for _, s := range []string{"access_token", "refresh_token"} {
			require.NotContains(t, html, s)
		}

		// The wizard goes on with the connection it came back with.
		submit(t, ctx, "#next")
		require.Contains(t, mainText(t, ctx), "Preview on a sample record")
	})
}

// mainTextOrBody is the page's text (pages outside /ui/ have no <main>).
func mainTextOrBody(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	require.NoError(t, err)
	return s
}
