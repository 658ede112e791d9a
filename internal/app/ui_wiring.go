package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/accordhq/accord/internal/access"
	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/credential"
	"github.com/accordhq/accord/internal/oauth"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/web/api"
	"github.com/accordhq/accord/internal/web/status"
	"github.com/accordhq/accord/internal/web/ui"
)

// uiSigner signs tenant links, UI sessions and CSRF tokens with a key
// derived from the master key: every process of a deployment accepts what
// another signed, and nothing new needs configuring.
func uiSigner(mk credential.MasterKey) (*access.Signer, error) {
	return access.NewSigner(access.DeriveKey(mk.Key, "ui"))
}

// mountUI adds the pages under /ui/ to routes.
func (a *App) mountUI(cfg *config.Config, logger *slog.Logger, admin *api.API, signer *access.Signer, partners *status.Monitor, routes map[string]http.Handler) error {
	// River UI lives as long as the process: its caches stop with Stop.
	var bg context.Context
	bg, a.stopBackground = context.WithCancel(context.Background())
	queueUI, err := a.Queue.UI(bg, "/ui/queue", logger)
	if err != nil {
		return err
	}
	pages, err := ui.New(ui.Deps{
		Store: a.Store, API: admin, Signer: signer,
		Providers: a.Catalog.Providers, Versions: a.Catalog.Versions,
		Reconnect: func(ctx context.Context, tenant, connectionID, returnURL string) (string, error) {
			// Never to another account from a page: that choice is explicit
			// and made through the API.
			s, err := a.OAuth.CreateReconnectSession(ctx, tenant, connectionID, returnURL, 15*time.Minute, false)
			if errors.Is(err, oauth.ErrNotBrowserFlow) {
				return "", ui.ErrNoBrowserReconnect
			}
			return s.URL, err
		},
		ReconnectSecret: func(ctx context.Context, tenant, connectionID, actor string, sec credential.Secret) (store.Connection, error) {
			return a.OAuth.Reconnect(ctx, tenant, connectionID, actor, &sec)
		},
		ConnectBrowser: func(ctx context.Context, tenant, provider, returnURL string) (string, error) {
			s, err := a.OAuth.CreateConnectSession(ctx, tenant, provider, returnURL, 15*time.Minute)
			if errors.Is(err, oauth.ErrNotBrowserFlow) {
				return "", ui.ErrNoBrowserReconnect
			}
			return s.URL, err
		},
		TestConnection: a.OAuth.TestConnection,
		SendTestEvent:  a.Engine.DeliverTest,
		TestSync:       a.Engine.TestSync,
		Status:         partners, Queue: queueUI, Logger: logger,
	}, &ui.Config{AdminToken: cfg.AdminToken, FrameAncestors: cfg.FrameAncestors(), PublicURL: cfg.PublicURL,
		ConsentOrigins: a.consentOrigins()})
	if err != nil {
		return fmt.Errorf("building ui: %w", err)
	}
	for pattern, h := range pages.Routes() {
		routes[pattern] = h
	}
	return nil
}

// consentOrigins are the origins of the loaded providers' OAuth consent
// pages (their authorize URLs, resolved as the connect flow resolves them).
func (a *App) consentOrigins() []string {
	seen := map[string]bool{}
	var out []string
	for _, name := range slices.Sorted(maps.Keys(a.Catalog.Providers)) {
		pc, err := a.OAuth.Provider(name)
		if err != nil || pc.AuthKind != oauth.AuthCode {
			continue
		}
		u, err := url.Parse(pc.AuthURL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			continue
		}
		if o := u.Scheme + "://" + u.Host; !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	return out
}
