package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/riverqueue/river"

	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/engine"
	"github.com/accordhq/accord/internal/notify"
	"github.com/accordhq/accord/internal/oauth"
	"github.com/accordhq/accord/internal/queue"
	"github.com/accordhq/accord/internal/registration"
	"github.com/accordhq/accord/internal/spec"
	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/uninstall"
)

// appQueue is the App's queue read at call time: the lifecycle workers
// join the registry the queue is built from, so they are built before it;
// no call comes before New returns (nothing serves or works until Start).
type appQueue struct{ a *App }

func (q appQueue) InsertTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, error) {
	return q.a.Queue.InsertTx(ctx, tx, args, opts)
}

func (q appQueue) InsertManyTx(ctx context.Context, tx store.Tx, params []river.InsertManyParams) ([]int64, error) {
	return q.a.Queue.InsertManyTx(ctx, tx, params)
}

func (q appQueue) CancelJobs(ctx context.Context, kind string, argEquals map[string]string) (int, error) {
	return q.a.Queue.CancelJobs(ctx, kind, argEquals)
}

// newLifecycle builds the uninstaller and the notifier and registers
// their jobs.
func (a *App) newLifecycle(cfg *config.Config, reg *queue.Registry, logger *slog.Logger, now func() time.Time) error {
	var err error
	a.Notifier, err = notify.New(a.Store, appQueue{a}, a.Vault, a.notifySignal, &notify.Config{
		Outbound: &connector.Config{AllowLoopback: cfg.AllowLoopbackPartners}, Now: now, Logger: logger})
	if err != nil {
		return err
	}
	if err := a.Notifier.Register(reg); err != nil {
		return err
	}
	a.Webhooks, err = registration.New(registration.Deps{
		Store: a.Store, Vault: a.Vault,
		Providers: func(name string) (*spec.Provider, bool) { p, ok := a.Catalog.Providers[name]; return p, ok },
		// The engine's connectors: registration calls share their rate
		// limits and outbound policy with every other call to the partner.
		Connector:  func(provider string) *connector.Connector { return a.Engine.Connector(provider) },
		Authorizer: a.OAuth.Authorizer,
		PublicURL:  a.publicURL,
		OnChange: func(_ context.Context, c store.Connection) {
			if a.Ingress != nil {
				a.Ingress.Forget(c.ID)
			}
		},
		Logger: logger,
		// A disconnect deletes the subscriptions before the tokens are
		// revoked, in a job when the partner is down.
		Teardown: a.OAuth.TeardownAuthorizer, Ender: a.OAuth, Queue: appQueue{a},
		Contract: func(name, version string) (*spec.Contract, bool) {
			c, ok := a.Catalog.Versions[name][version]
			return c, ok
		},
	})
	if err != nil {
		return err
	}
	if err := a.Webhooks.RegisterJobs(reg); err != nil {
		return err
	}
	a.Uninstaller, err = uninstall.New(a.Store, appQueue{a}, a.OAuth, &uninstall.Config{
		Webhooks: a.Webhooks,
		Contract: func(name, version string) (*spec.Contract, bool) {
			c, ok := a.Catalog.Versions[name][version]
			return c, ok
		},
		// Deliveries and token refreshes carry tenant_id and connection_id.
		JobKinds: []string{engine.KindDeliver, oauth.KindRefresh},
		Now:      now, Logger: logger,
	})
	if err != nil {
		return err
	}
	return a.Uninstaller.Register(reg)
}

// packRollouts returns the rollout stage each pack under dir recommends
// per contract, for the catalog. The packs loaded already (LoadCatalog);
// a pack that does not load here says nothing.
func packRollouts(dir string) map[string]string {
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		b, _ := spec.LoadDir(filepath.Join(dir, e.Name()))
		for _, p := range b.Packs {
			for _, r := range p.Recommended {
				if r != nil && r.Rollout != "" {
					out[r.Contract] = r.Rollout
				}
			}
		}
	}
	return out
}

// publicURL is where partners reach this process: public_url, else the
// address it listens on (known once it listens, hence read at call time).
func (a *App) publicURL() string {
	if a.cfg.PublicURL != "" {
		return a.cfg.PublicURL
	}
	return "http://" + a.Addr()
}
